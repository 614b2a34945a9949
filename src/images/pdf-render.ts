/**
 * PDF originals, as SQLAlchemy-ImageAttach has them: the first page is the image. pdf.js
 * (`pdfjs-dist`, an optional peer dependency) reads and renders it in a worker thread of its
 * own per document, ended at the time limit and held to a heap limit; before it sees the file,
 * the cross-reference chain is checked (`pdf-structure.ts`).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  MissingDependencyError,
  PdfPageTooLargeError,
  PdfRenderTimeoutError,
  PdfTooManyPagesError,
  PdfUnreadableError,
  type UploadErrorOptions,
} from '../errors.js';
import { PDF_WORKER_READY, PDFJS_MODULES, type PdfAnswer, type PdfJob } from './pdf-protocol.js';
import { findPdfStructureProblem } from './pdf-structure.js';

/** The limits a PDF is held to. */
export interface PdfLimits {
  /** Pages in the document. @default 100 */
  maxPages: number;
  /** Points (1/72 inch) per side of the first page. @default 14400 (the PDF spec's limit) */
  maxPageSize: number;
  /** Pixels of the rendered page, and of each image embedded in it. @default 50000000 */
  maxPixels: number;
  /** Milliseconds the worker may take to read and render. @default 5000 */
  renderTimeout: number;
}

/** What a PDF is: its first page's size in points and its page count. */
export interface PdfInfo {
  width: number;
  height: number;
  pages: number;
}

/** The pdfjs-dist this library is tested with (5.7 and later need Node 22.13). */
export const PDF_PEER_DEPENDENCIES = ['pdfjs-dist@5.6.205'] as const;

export const DEFAULT_PDF_LIMITS: Readonly<PdfLimits> = Object.freeze({
  maxPages: 100,
  maxPageSize: 14_400,
  maxPixels: 50_000_000,
  renderTimeout: 5000,
});

/** Old-generation heap of a render worker, in MiB: pdf.js's objects, not the canvas' pixels. */
const WORKER_HEAP_MB = 256;

// From source (tests, tsx) the worker is TypeScript and needs tsx's loader registered in it.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './pdf-worker.ts' : './pdf-worker.js', import.meta.url);

const require = createRequire(import.meta.url);

/** Whether `pdfjs-dist` can be loaded. */
export function pdfSupportInstalled(): boolean {
  try {
    require.resolve('pdfjs-dist/package.json');
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a PDF and reads its first page's size (`render: false`), or renders that page to a
 * PNG covering `bound` (at 72 dpi without one), within `limits`.
 * @throws {PdfUnreadableError} (422) broken structure, encrypted, or pdf.js cannot read it.
 * @throws {PdfTooManyPagesError} (422) more pages than `maxPages`.
 * @throws {PdfPageTooLargeError} (422) a first page over `maxPageSize` or `maxPixels`.
 * @throws {PdfRenderTimeoutError} (422) the worker ran past `renderTimeout` and was ended.
 * @throws {MissingDependencyError} when `pdfjs-dist` is not installed.
 */
export async function readPdf(
  input: string | Buffer,
  options: {
    limits?: Partial<PdfLimits>;
    render?: boolean;
    bound?: { width: number; height: number };
    field?: string;
  } = {},
): Promise<PdfInfo & { png?: Buffer }> {
  const limits = { ...DEFAULT_PDF_LIMITS, ...options.limits };
  const errorOptions: UploadErrorOptions = { field: options.field };
  if (!pdfSupportInstalled()) {
    throw new MissingDependencyError(PDF_PEER_DEPENDENCIES, 'PDF originals');
  }
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  const problem = findPdfStructureProblem(bytes);
  if (problem !== undefined) throw new PdfUnreadableError(problem, errorOptions);
  const answer = await inWorker(
    {
      data: new Uint8Array(bytes),
      maxPages: limits.maxPages,
      maxPageSize: limits.maxPageSize,
      maxPixels: limits.maxPixels,
      bound: options.bound,
      render: options.render ?? true,
    },
    limits.renderTimeout,
  );
  if (answer === 'timeout') throw new PdfRenderTimeoutError(limits.renderTimeout, errorOptions);
  if (answer.ok) {
    const { pages, width, height, png } = answer;
    return { pages, width, height, ...(png === undefined ? {} : { png: Buffer.from(png) }) };
  }
  switch (answer.problem) {
    case 'pages':
      throw new PdfTooManyPagesError(answer.pages, limits.maxPages, errorOptions);
    case 'page-size':
      throw new PdfPageTooLargeError(answer.width, answer.height, limits, errorOptions);
    case 'unreadable':
      throw new PdfUnreadableError(answer.message, errorOptions);
  }
}

/** Milliseconds a new worker may take to load pdf.js before it counts as failed to start. */
const START_TIMEOUT = 30_000;

/**
 * Runs one job in a new worker; the time limit starts once the worker has loaded pdf.js, and
 * the worker is ended when it answers or at the limit.
 */
function inWorker(job: PdfJob, timeout: number): Promise<PdfAnswer | 'timeout'> {
  const resourceLimits = { maxOldGenerationSizeMb: WORKER_HEAP_MB };
  const worker = FROM_SOURCE
    ? new Worker(
        // pdf.js is loaded before tsx's loader is registered: through it, loading takes seconds.
        `Promise.all(${JSON.stringify(PDFJS_MODULES)}.map((name) => import(name)))` +
          `.then(() => import('tsx/esm/api')).then(({ register }) => { register(); ` +
          `return import(${JSON.stringify(WORKER_URL.href)}); })`,
        { eval: true, resourceLimits },
      )
    : new Worker(WORKER_URL, { resourceLimits });
  return new Promise((resolve, reject) => {
    const end = () => {
      clearTimeout(timer);
      worker.removeAllListeners();
      // Ended either way: a worker is never reused, so nothing of one document reaches the next.
      void worker.terminate();
    };
    const done = (answer: PdfAnswer | 'timeout') => {
      end();
      resolve(answer);
    };
    let timer = setTimeout(() => {
      end();
      reject(new Error('The PDF reader did not start.'));
    }, START_TIMEOUT);
    worker.on('message', (message: PdfAnswer | typeof PDF_WORKER_READY) => {
      if (message !== PDF_WORKER_READY) {
        done(message);
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(() => done('timeout'), timeout);
      worker.postMessage(job, [job.data.buffer as ArrayBuffer]);
    });
    // A worker that dies (out of heap, a crash in pdf.js) has refused the file.
    worker.once('error', (error) =>
      done({ ok: false, problem: 'unreadable', message: error.message }),
    );
    worker.once('exit', (code) =>
      done({ ok: false, problem: 'unreadable', message: `The PDF reader exited (${code}).` }),
    );
  });
}
