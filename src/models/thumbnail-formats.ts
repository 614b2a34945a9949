/**
 * Formats beside sizes: the formats a `generateThumbnails` call writes each size in, and the
 * row of a set that answers a size in a format. Several formats of one size need the mimetype
 * in the primary key (`imageAttributes({ mimetypeInKey: true })`).
 */
import type { ModelStatic } from 'sequelize';
import { InvalidOptionError } from '../errors.js';
import { mimetypeOfFormat, WRITABLE_FORMATS } from '../images/formats.js';
import { thumbnailFormat, type ThumbnailFormat, type ThumbnailSize } from '../images/thumbnail.js';
import type { Image } from './image.js';

/** Whether the model keys its rows by mimetype too, so one size may have several formats. */
export function hasMimetypeKey(model: ModelStatic<Image>): boolean {
  return model.primaryKeyAttributes.includes('mimetype');
}

/** Checks the `formats` option once; `InvalidOptionError` naming it. */
export function validateFormats(formats: unknown): void {
  if (formats === undefined) return;
  if (!Array.isArray(formats)) {
    throw new InvalidOptionError('formats', `must be an array of ${WRITABLE_FORMATS.join(', ')}`);
  }
  for (const format of formats) {
    if (typeof format !== 'string' || !WRITABLE_FORMATS.includes(format)) {
      throw new InvalidOptionError(
        'formats',
        `must list only ${WRITABLE_FORMATS.join(', ')}, not ${JSON.stringify(format)}`,
      );
    }
  }
}

/**
 * The mimetypes each size is written in: the thumbnail format (`format`, else the original's)
 * first, then each of `formats` not already listed.
 * @throws {InvalidOptionError} when that is more than one and the model keys by size only.
 */
export function thumbnailMimetypes(
  model: ModelStatic<Image>,
  originalMimetype: string,
  options: { format?: ThumbnailFormat; formats?: readonly ThumbnailFormat[] },
): [string, ...string[]] {
  const primary = mimetypeOfFormat(thumbnailFormat(originalMimetype, options.format));
  const all = new Set([primary, ...(options.formats ?? []).map(mimetypeOfFormat)]);
  if (all.size > 1 && !hasMimetypeKey(model)) {
    throw new InvalidOptionError(
      'formats',
      `${model.name} keeps one row per size: give it imageAttributes({ mimetypeInKey: true }) ` +
        'to store a size in several formats',
    );
  }
  return [primary, ...[...all].slice(1)];
}

/**
 * The image a thumbnail request is answered with, as the original does: one with the asked
 * side first (it may be the original), else one of the exact box. On a model keyed by
 * mimetype, only images of `mimetype` count.
 */
export function findExisting<I extends Image>(
  images: readonly I[],
  size: ThumbnailSize,
  box: { width: number; height: number },
  mimetype: string | undefined,
): I | undefined {
  const candidates =
    mimetype === undefined ? images : images.filter((image) => image.mimetype === mimetype);
  const matches = (image: I, wanted: { width?: number; height?: number }) =>
    (wanted.width === undefined || image.width === wanted.width) &&
    (wanted.height === undefined || image.height === wanted.height);
  const side =
    size.width !== undefined
      ? { width: size.width }
      : size.height !== undefined
        ? { height: size.height }
        : undefined;
  return (
    (side === undefined ? undefined : candidates.find((image) => matches(image, side))) ??
    candidates.find((image) => matches(image, box))
  );
}

/**
 * Of the images of one size (in the set's order), the one `findThumbnail` answers without a
 * format: the original, else the original's thumbnail format, else the first.
 */
export function preferredOfSize<I extends Image>(
  matching: readonly I[],
  original: I | undefined,
): I | undefined {
  const own = matching.find((image) => image.original);
  if (own !== undefined || original === undefined) return own ?? matching[0];
  const primary = mimetypeOfFormat(thumbnailFormat(original.mimetype));
  return matching.find((image) => image.mimetype === primary) ?? matching[0];
}
