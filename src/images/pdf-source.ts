/**
 * The source of a PDF original's thumbnails: its first page, rendered by pdf.js to a PNG large
 * enough for the largest thumbnail asked for (SQLAlchemy-ImageAttach's thumbnails of PDFs are
 * PNGs of the first page too).
 */
import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { readPdf, type PdfLimits } from './pdf-render.js';

export const PDF_MIMETYPE = 'application/pdf';

/**
 * The first page of the PDF `input` (a path, a stream or bytes) as PNG bytes covering every box
 * of `boxes`, within the PDF limits (their defaults unless given).
 * @throws the `E_PDF_*` errors of {@link readPdf}.
 */
export async function pdfThumbnailSource(
  input: string | Readable | Buffer,
  boxes: readonly { width: number; height: number }[],
  limits?: Partial<PdfLimits>,
): Promise<Buffer> {
  const bytes = typeof input === 'string' || Buffer.isBuffer(input) ? input : await buffer(input);
  const bound = {
    width: Math.max(1, ...boxes.map((box) => box.width)),
    height: Math.max(1, ...boxes.map((box) => box.height)),
  };
  const { png } = await readPdf(bytes, { bound, limits });
  // readPdf renders unless told not to.
  return png!;
}
