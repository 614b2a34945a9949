/**
 * The placeholder of an upload's original, for a set whose image model keeps one
 * (`imageAttributes({ placeholder: true })`): decoded from the staged file in a slot of the
 * processing queue before the write transaction, then handed to `fromRawFile` as a value, so
 * that the transaction (on SQLite, the database's one write turn) never waits on a decode.
 */
import { thumbHashOf } from '../images/placeholder.js';
import { PDF_MIMETYPE } from '../images/pdf-source.js';
import type { ProcessingQueue } from '../images/queue.js';

/** The column values an upload's original gets: `{ placeholder }`, or nothing. */
export type PlaceholderValues = { placeholder: string | null } | undefined;

/** Whether `set`'s image model has a `placeholder` column. */
function keepsPlaceholder(set: unknown): boolean {
  const model = (set as { model?: { getAttributes?: () => object } } | null)?.model;
  return typeof model?.getAttributes === 'function' && 'placeholder' in model.getAttributes();
}

/**
 * `{ placeholder }` for `set` from the staged file at `path`: the ThumbHash, or `null` for
 * what sharp cannot decode (a PDF, say); `undefined` when the model keeps none.
 * @throws {QueueFullError} when the queue is full.
 */
export async function uploadPlaceholder(
  set: unknown,
  path: string,
  mimetype: string,
  queue: ProcessingQueue,
): Promise<PlaceholderValues> {
  if (!keepsPlaceholder(set)) return undefined;
  // sharp does not read PDFs; their first page is rendered only for thumbnails.
  if (mimetype === PDF_MIMETYPE) return { placeholder: null };
  const placeholder = await queue.run(() => thumbHashOf(path, mimetype).catch(() => null));
  return { placeholder };
}
