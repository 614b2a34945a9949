/**
 * An upload's thumbnails, rendered before its write transaction in a slot of the processing
 * queue held only while the image is decoded and encoded. When `uploadImage` handed its check
 * decode on (see deferred-decode.ts), that one decode, in the decoder pool under the time
 * limit, checks the image and renders the thumbnails; otherwise they are decoded here.
 */
import type { IncomingMessage } from 'node:http';
import { PDF_MIMETYPE } from '../images/pdf-source.js';
import type { ProcessingQueue } from '../images/queue.js';
import {
  renderThumbnails,
  thumbnailDimensions,
  type RenderedThumbnail,
  type ThumbnailSize,
} from '../images/thumbnail.js';
import { takePendingDecode } from './deferred-decode.js';
import { runFullDecode } from './inspect.js';
import type { StagedImageFile } from './storage.js';

type Box = { width: number; height: number };

/** Thumbnails rendered ahead, by box. */
export interface UploadRenders {
  /** The thumbnail of exactly `width`×`height`, if it was rendered. */
  readonly get: (width: number, height: number) => RenderedThumbnail | undefined;
  /** Whether every size asked for is rendered (or is the original's own size). */
  readonly complete: boolean;
}

/**
 * Runs the upload's pending check decode, if any, and renders the thumbnails of `sizes` at the
 * boxes SQLAlchemy-ImageAttach computes from the upload's size.
 * @throws the 422 decode errors of the check, `QueueFullError` (503) when the queue is full.
 */
export async function renderUploadThumbnails(
  req: IncomingMessage,
  staged: Pick<StagedImageFile, 'path' | 'width' | 'height' | 'mimetype'>,
  sizes: readonly ThumbnailSize[],
  queue: ProcessingQueue,
): Promise<UploadRenders> {
  const pendingDecode = takePendingDecode(req, staged.path);
  // A PDF's thumbnails come from its first page, rendered by the image set (pdf-source.ts).
  if (staged.mimetype === PDF_MIMETYPE) return { get: () => undefined, complete: false };
  const { boxes, complete } = boxesOf(staged, sizes);
  const thumbnails = { mimetype: staged.mimetype, boxes };
  let rendered: RenderedThumbnail[] = [];
  if (pendingDecode !== undefined) {
    rendered = await queue.run(() =>
      runFullDecode(pendingDecode, boxes.length === 0 ? undefined : thumbnails),
    );
  } else if (boxes.length > 0) {
    // Already checked by uploadImage: decoded here.
    rendered = await queue.run(() => renderThumbnails(boxes, staged.mimetype, () => staged.path));
  }
  const byBox = new Map(rendered.map((thumbnail, at) => [keyOf(boxes[at] as Box), thumbnail]));
  return { get: (width, height) => byBox.get(keyOf({ width, height })), complete };
}

/**
 * The distinct boxes to render: not the original's own size (the original answers for it), nor
 * a size the arithmetic refuses (the image set reports that one, as it always has).
 */
function boxesOf(
  original: Box,
  sizes: readonly ThumbnailSize[],
): { boxes: Box[]; complete: boolean } {
  const boxes = new Map<string, Box>();
  let complete = true;
  for (const size of sizes) {
    let box: Box;
    try {
      box = thumbnailDimensions(original, size);
    } catch {
      complete = false;
      continue;
    }
    if (box.width === original.width && box.height === original.height) continue;
    boxes.set(keyOf(box), box);
  }
  return { boxes: [...boxes.values()], complete };
}

function keyOf(box: Box): string {
  return `${box.width}x${box.height}`;
}
