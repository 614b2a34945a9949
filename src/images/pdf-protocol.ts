/** The messages between `pdf-render.ts` and its worker, `pdf-worker.ts`. */

/** The worker's first message: pdf.js is loaded, and the time limit may start. */
export const PDF_WORKER_READY = 'ready';

/** pdf.js's modules: its API, and the "worker" it runs in the same thread in Node. */
export const PDFJS_MODULES = [
  'pdfjs-dist/legacy/build/pdf.mjs',
  'pdfjs-dist/legacy/build/pdf.worker.mjs',
] as const;

/** What the parent asks for. */
export interface PdfJob {
  data: Uint8Array;
  maxPages: number;
  maxPageSize: number;
  maxPixels: number;
  /** Render the first page to cover this box (within `maxPixels`); at 72 dpi when absent. */
  bound?: { width: number; height: number } | undefined;
  /** Whether to render at all (false: read the page count and size only). */
  render: boolean;
}

/** What the worker answers. */
export type PdfAnswer =
  | { ok: true; pages: number; width: number; height: number; png?: Uint8Array }
  | { ok: false; problem: 'pages'; pages: number }
  | { ok: false; problem: 'page-size'; width: number; height: number }
  | { ok: false; problem: 'unreadable'; message: string };
