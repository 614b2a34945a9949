/**
 * What an image is, read from its bytes with sharp's header-only `metadata()`: never from a
 * file name or a client's claim.
 */
import sharp, { type Metadata } from 'sharp';
import { NotAnImageError } from '../errors.js';
import { MIMETYPE_OF_SHARP_FORMAT } from './formats.js';

export interface ImageInfo {
  /** The mimetype the bytes show, e.g. `image/jpeg`; `image/x-…` types lose their `x-`. */
  mimetype: string;
  /** sharp's name of the format: `jpeg`, `png`, `webp`, `gif`, `svg`, `heif`, … */
  format: string;
  /** Width as displayed, after the EXIF orientation is applied. */
  width: number;
  /** Height as displayed, after the EXIF orientation is applied. */
  height: number;
  /** The EXIF orientation, 1 (upright) to 8; 1 when there is none. */
  orientation: number;
  /** Frames of an animation or pages of a document; 1 for a still image. */
  pages: number;
  hasAlpha: boolean;
}

/**
 * Reads type, displayed size, orientation and frame count from an image's header.
 * @param input a file path or the image's bytes.
 * @throws {NotAnImageError} when sharp cannot read the header.
 */
export async function readImageInfo(input: string | Buffer): Promise<ImageInfo> {
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new NotAnImageError('The file is not an image of a type that can be read.', {
      cause: error,
    });
  }
  const { format, width, height } = metadata;
  const mimetype = mimetypeOf(metadata);
  if (mimetype === undefined || width === undefined || height === undefined) {
    throw new NotAnImageError(
      `The file is a ${format ?? 'unknown'} image of unknown size or type.`,
    );
  }
  const orientation = metadata.orientation ?? 1;
  const turned = orientation >= 5 && orientation <= 8;
  return {
    mimetype,
    format,
    width: turned ? height : width,
    height: turned ? width : height,
    orientation,
    pages: metadata.pages ?? 1,
    hasAlpha: metadata.hasAlpha ?? false,
  };
}

function mimetypeOf(metadata: Metadata): string | undefined {
  if (metadata.format === 'heif') {
    return metadata.compression === 'av1' ? 'image/avif' : 'image/heic';
  }
  const mimetype = MIMETYPE_OF_SHARP_FORMAT.get(metadata.format);
  if (mimetype !== undefined) return mimetype;
  const mediaType = (metadata as { mediaType?: unknown }).mediaType;
  return typeof mediaType === 'string' ? normalizeMimetype(mediaType) : undefined;
}

/** `image/x-icon` becomes `image/icon`, as the original normalises on ingest. */
export function normalizeMimetype(mimetype: string): string {
  const lower = mimetype.toLowerCase();
  return lower.startsWith('image/x-') ? `image/${lower.slice('image/x-'.length)}` : lower;
}
