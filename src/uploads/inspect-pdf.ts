/**
 * A staged PDF upload (`formats: [..., 'pdf']`): its structure checked, then read by pdf.js in a
 * worker within the page count, page size and time limits; with `verify`, its first page is
 * rendered too, so a document that cannot make a thumbnail is refused before it is stored.
 */
import { readPdf } from '../images/pdf-render.js';
import type { InspectedImage } from './inspect.js';
import type { ResolvedImageOptions } from './options.js';
import type { StagedFile } from './stage.js';

/**
 * The PDF's first page size in points (its size as an image, as SQLAlchemy-ImageAttach's
 * ImageMagick reads it at 72 dpi) and its page count.
 * @throws the 422 `E_PDF_*` errors.
 */
export async function inspectStagedPdf(
  staged: StagedFile,
  options: ResolvedImageOptions,
  field: string | undefined,
): Promise<InspectedImage> {
  const info = await readPdf(staged.path, {
    render: options.verify,
    field,
    limits: {
      maxPages: options.maxPdfPages,
      maxPageSize: options.maxPdfPageSize,
      maxPixels: options.maxPixels,
      renderTimeout: options.pdfRenderTimeout,
    },
  });
  return {
    mimetype: 'application/pdf',
    format: 'pdf',
    width: info.width,
    height: info.height,
    orientation: 1,
    pages: info.pages,
    hasAlpha: false,
  };
}
