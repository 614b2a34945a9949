/**
 * The typed way to read what `attachImage` left on `res.locals.image`: Express types
 * `res.locals` as a record of `any`, which no declaration merging narrows.
 */
import type { ServerResponse } from 'node:http';
import type { AttachableImage, AttachedImage } from './attach.js';

/**
 * What `attachImage` stored for this response: `{ image, url, width, height, mimetype,
 * thumbnails }`. Throws a `TypeError` when `attachImage` has not run before the handler.
 *
 * @example
 * app.post('/users/:id/picture', uploadImage({ field: 'picture' }), attachImage({ to }),
 *   (req, res) => res.json({ url: attachedImage(res).url }));
 */
export function attachedImage<I extends AttachableImage = AttachableImage>(
  res: ServerResponse,
): AttachedImage<I> {
  const image = (res as ServerResponse & { locals?: { image?: unknown } }).locals?.image;
  if (typeof image !== 'object' || image === null) {
    throw new TypeError(
      'res.locals.image is not set: call attachedImage(res) in a handler after attachImage()',
    );
  }
  return image as AttachedImage<I>;
}
