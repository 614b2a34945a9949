/**
 * The worker thread that reads a PDF with pdf.js and renders its first page to a PNG. pdf.js
 * parses and draws on the thread that calls it, so it runs here, where the parent can end it at
 * the time limit (`pdf-render.ts`); it gets the bytes, never a path or a URL.
 */
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { PDF_WORKER_READY, PDFJS_MODULES, type PdfAnswer, type PdfJob } from './pdf-protocol.js';

const require = createRequire(import.meta.url);
const PDFJS_ROOT = dirname(require.resolve('pdfjs-dist/package.json'));

const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
// pdf.js's own "worker" runs in this thread; loaded now, so that it is not timed as the render.
const fakeWorker: string = PDFJS_MODULES[1];
(globalThis as { pdfjsWorker?: unknown }).pdfjsWorker = (await import(fakeWorker)) as unknown;

parentPort?.once('message', (job: PdfJob) => {
  void run(job).then(
    (answer) =>
      parentPort?.postMessage(
        answer,
        answer.ok && answer.png ? [answer.png.buffer as ArrayBuffer] : [],
      ),
    (error: unknown) =>
      parentPort?.postMessage({
        ok: false,
        problem: 'unreadable',
        message: error instanceof Error ? error.message : String(error),
      } satisfies PdfAnswer),
  );
});

parentPort?.postMessage(PDF_WORKER_READY);

/** What pdf.js is told, for the bytes `data` of `job`. */
function documentOptions(job: PdfJob, data: Uint8Array, stopAtErrors: boolean) {
  return {
    data,
    // Type 4 (PostScript calculator) functions are interpreted, never compiled with `new Function`.
    isEvalSupported: false,
    // Glyphs are drawn as paths from the font programs pdf.js parses itself: no FontFace, no
    // system fonts.
    disableFontFace: true,
    useSystemFonts: false,
    // CMaps, the 14 standard fonts and the image decoders' wasm are read from pdfjs-dist's own
    // folder on disk; nothing is fetched.
    useWorkerFetch: false,
    cMapUrl: join(PDFJS_ROOT, 'cmaps/'),
    cMapPacked: true,
    standardFontDataUrl: join(PDFJS_ROOT, 'standard_fonts/'),
    wasmUrl: join(PDFJS_ROOT, 'wasm/'),
    iccUrl: join(PDFJS_ROOT, 'iccs/'),
    // XFA forms would be HTML; the whole file is here, so no range or streaming loads.
    enableXfa: false,
    disableRange: true,
    disableStream: true,
    disableAutoFetch: true,
    // An embedded image larger than the pixel limit is not decoded.
    maxImageSize: job.maxPixels,
    stopAtErrors,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    verbosity: 0,
  };
}

/**
 * Whether the first page's operator list, `drawn` operators long, was cut short by an error.
 * With `stopAtErrors` pdf.js ends the list at the first broken operator (an unknown resource, a
 * stream that is no stream, garbage) but hands what came before it, often nothing, to the
 * caller as if complete: the page would render blank or in part, and be accepted. Read
 * leniently, the same page skips what is broken and goes on, so it has more operators.
 */
async function cutShort(job: PdfJob, data: Uint8Array, drawn: number): Promise<boolean> {
  const lenient = await pdfjs.getDocument(documentOptions(job, data, false)).promise;
  try {
    const page = await lenient.getPage(1);
    const list = await page.getOperatorList({ annotationMode: pdfjs.AnnotationMode.ENABLE_FORMS });
    return list.fnArray.length > drawn;
  } finally {
    await lenient.destroy();
  }
}

async function run(job: PdfJob): Promise<PdfAnswer> {
  // pdf.js may keep the bytes it is given: the lenient read of `cutShort` gets its own copy.
  const copy = job.render ? job.data.slice() : undefined;
  // A broken content stream ends the operator list at the error (see `cutShort`).
  const doc = await pdfjs.getDocument(documentOptions(job, job.data, true)).promise;
  try {
    // Document JavaScript is never run: pdf.js's core has no interpreter for it (that is the
    // viewer's sandbox, not loaded here), and nothing here asks for actions or forms.
    if (doc.numPages > job.maxPages) return { ok: false, problem: 'pages', pages: doc.numPages };
    const page = await doc.getPage(1);
    // The page as displayed: /Rotate applied, in points (1/72 inch) times its /UserUnit.
    const viewport = page.getViewport({ scale: page.userUnit });
    const { width, height } = viewport;
    if (
      !(width > 0 && height > 0) ||
      width > job.maxPageSize ||
      height > job.maxPageSize ||
      width * height > job.maxPixels
    ) {
      return { ok: false, problem: 'page-size', width, height };
    }
    const size = { width: Math.max(1, Math.round(width)), height: Math.max(1, Math.round(height)) };
    if (!job.render) return { ok: true, pages: doc.numPages, ...size };
    const wanted = job.bound ?? size;
    const cap = Math.sqrt(job.maxPixels / (width * height));
    const scale = Math.min(cap, Math.max(wanted.width / width, wanted.height / height));
    const scaled = page.getViewport({ scale: scale * page.userUnit });
    // The same list the render draws (same intent and annotation mode: pdf.js keeps it).
    const drawn = await page.getOperatorList({
      annotationMode: pdfjs.AnnotationMode.ENABLE_FORMS,
    });
    if (await cutShort(job, copy!, drawn.fnArray.length)) {
      return { ok: false, problem: 'unreadable', message: "The first page's content is broken." };
    }
    const factory = doc.canvasFactory as PdfCanvasFactory;
    const { canvas, context } = factory.create(
      Math.max(1, Math.ceil(scaled.width)),
      Math.max(1, Math.ceil(scaled.height)),
    );
    await page.render({
      canvas: canvas as never,
      canvasContext: context as never,
      viewport: scaled,
      background: 'white',
    }).promise;
    const png = new Uint8Array(canvas.toBuffer('image/png'));
    return { ok: true, pages: doc.numPages, ...size, png };
  } finally {
    await doc.destroy();
  }
}

/** pdf.js's Node canvas factory, typed `Object` in its declarations. */
interface PdfCanvasFactory {
  create(width: number, height: number): { canvas: PdfCanvas; context: unknown };
}

/** The canvas pdf.js's Node canvas factory makes (`@napi-rs/canvas`, which pdfjs-dist installs). */
interface PdfCanvas {
  toBuffer(mimetype: 'image/png'): Buffer;
}
