/**
 * Thumbnails: the original's size arithmetic, bit for bit, and the sharp pipeline that makes
 * them (EXIF orientation applied, first frame only, metadata stripped, vectors to PNG).
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline as feed } from 'node:stream/promises';
import sharp, { type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import { InvalidOptionError, NotAnImageError } from '../errors.js';
import { describe } from '../stores/keys.js';
import { DECODE_FAIL_ON } from './fail-on.js';
import { mimetypeOfFormat, WRITABLE_FORMATS, writableFormatOf } from './formats.js';

/** Exactly one of `width`, `height` or `ratio`. */
export type ThumbnailSize =
  | { width: number; height?: undefined; ratio?: undefined }
  | { height: number; width?: undefined; ratio?: undefined }
  | { ratio: number; width?: undefined; height?: undefined };

export type ThumbnailFit = 'fill' | 'cover' | 'contain' | 'inside';
export type ThumbnailFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff';

export interface ThumbnailRenderOptions {
  /**
   * How the image fills the computed box; `cover` crops, `contain` letterboxes, `inside`
   * may come out smaller than the box (the row records the real size).
   * @default 'fill' (stretched to the exact box, as SQLAlchemy-ImageAttach does)
   */
  fit?: ThumbnailFit;
  /** @default the original's format; PNG for SVG, PDF and formats sharp cannot write */
  format?: ThumbnailFormat;
  /** Encoder quality, 1 to 100, for JPEG, WebP, AVIF and TIFF. @default sharp's */
  quality?: number;
}

const FITS: readonly ThumbnailFit[] = ['fill', 'cover', 'contain', 'inside'];
const FORMATS = WRITABLE_FORMATS as readonly ThumbnailFormat[];

/** Checks a size request: `TypeError` for the wrong shape or type, `RangeError` for values. */
export function validateThumbnailSize(size: unknown): asserts size is ThumbnailSize {
  if (typeof size !== 'object' || size === null) {
    throw new TypeError('pass { width }, { height } or { ratio }');
  }
  const { width, height, ratio } = size as Record<string, unknown>;
  const given = [width, height, ratio].filter((value) => value !== undefined).length;
  if (given === 0) throw new TypeError('pass an argument ratio, width, or height');
  if (given > 1) {
    throw new TypeError(
      'pass only one argument in ratio, width, or height; these parameters are exclusive',
    );
  }
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new TypeError(`${name} must be an integer, not ${describe(value)}`);
    }
    if (value < 1) throw new RangeError(`${name} must be natural number, not ${value}`);
  }
  if (ratio !== undefined) {
    if (typeof ratio !== 'number' || !Number.isFinite(ratio)) {
      throw new TypeError(`ratio must be a finite number, not ${describe(ratio)}`);
    }
    if (ratio <= 0) throw new RangeError(`ratio must be greater than 0, not ${ratio}`);
  }
}

/**
 * The thumbnail's size, as SQLAlchemy-ImageAttach computes it: the other side scaled in the
 * same floating-point order (`h * (width / w)`), then truncated.
 * @throws {RangeError} when a side comes out smaller than 1 pixel.
 */
export function thumbnailDimensions(
  original: { width: number; height: number },
  size: ThumbnailSize,
): { width: number; height: number } {
  validateThumbnailSize(size);
  const { width: w, height: h } = original;
  let width: number;
  let height: number;
  if (size.width !== undefined) {
    width = size.width;
    height = Math.trunc(h * (size.width / w));
  } else if (size.height !== undefined) {
    width = Math.trunc(w * (size.height / h));
    height = size.height;
  } else {
    width = Math.trunc(w * size.ratio);
    height = Math.trunc(h * size.ratio);
  }
  if (width < 1 || height < 1) {
    throw new RangeError(`the thumbnail of a ${w}x${h} image would be ${width}x${height}`);
  }
  return { width, height };
}

/** Checks render options once; `InvalidOptionError` naming the option. */
export function validateRenderOptions(options: ThumbnailRenderOptions): void {
  const { fit, format, quality } = options;
  if (fit !== undefined && !FITS.includes(fit)) {
    throw new InvalidOptionError('fit', `must be one of ${FITS.join(', ')}, not ${String(fit)}`);
  }
  if (format !== undefined && !FORMATS.includes(format)) {
    throw new InvalidOptionError(
      'format',
      `must be one of ${FORMATS.join(', ')}, not ${String(format)}`,
    );
  }
  if (quality !== undefined) {
    if (typeof quality !== 'number' || !Number.isInteger(quality)) {
      throw new InvalidOptionError('quality', `must be an integer, not ${String(quality)}`);
    }
    if (quality < 1 || quality > 100) {
      throw new InvalidOptionError('quality', `must be from 1 to 100, not ${quality}`);
    }
  }
}

/** The format a thumbnail of `mimetype` is written in: the same, else PNG (SVG, PDF, …). */
export function thumbnailFormat(mimetype: string, format?: ThumbnailFormat): ThumbnailFormat {
  return format ?? (writableFormatOf(mimetype) as ThumbnailFormat | undefined) ?? 'png';
}

export interface RenderedThumbnail {
  data: Buffer;
  width: number;
  height: number;
  mimetype: string;
}

/**
 * An original decoded once, oriented upright, first frame only; thumbnails are cut from it
 * without decoding again.
 */
export class DecodedImage {
  private constructor(
    private readonly pixels: Buffer,
    private readonly info: OutputInfo,
    readonly mimetype: string,
  ) {}

  /**
   * Decodes `input` (a stream, bytes or a path).
   * @throws {NotAnImageError} when sharp cannot decode it (not an image, truncated, …).
   */
  static async decode(
    input: Readable | Buffer | string,
    mimetype: string,
    bound?: { width: number; height: number },
  ): Promise<DecodedImage> {
    input = await svgInMemory(input, mimetype);
    const pipeline =
      typeof input === 'string' || Buffer.isBuffer(input) ? sharp(input, SOURCE) : sharp(SOURCE);
    const fed = feedFrom(input, pipeline);
    try {
      const upright = pipeline.rotate();
      // At least the bound on both sides, never enlarged: every thumbnail up to it can be cut
      // from the result, and a JPEG is shrunk while it is decoded.
      const sized =
        bound === undefined
          ? upright
          : upright.resize(bound.width, bound.height, { fit: 'outside', withoutEnlargement: true });
      const [{ data, info }] = await Promise.all([
        sized.raw().toBuffer({ resolveWithObject: true }),
        fed.done,
      ]);
      return new DecodedImage(data, info, mimetype);
    } catch (error) {
      if (fed.failed(error)) throw error;
      throw new NotAnImageError('The original image could not be decoded.', { cause: error });
    }
  }

  /** Width and height of the decoded (upright, possibly shrunk) pixels. */
  get size(): [number, number] {
    return [this.info.width, this.info.height];
  }

  /** Renders one thumbnail of exactly `width`x`height` (or within it, for `inside`). */
  async render(
    width: number,
    height: number,
    options: ThumbnailRenderOptions = {},
  ): Promise<RenderedThumbnail> {
    const { width: w, height: h, channels } = this.info;
    const source = sharp(this.pixels, { raw: { width: w, height: h, channels } });
    const format = thumbnailFormat(this.mimetype, options.format);
    const pipeline = encode(
      source.resize(width, height, { fit: options.fit ?? 'fill' }),
      format,
      options.quality,
    );
    try {
      const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, mimetype: mimetypeOfFormat(format) };
    } catch (error) {
      throw new NotAnImageError('The thumbnail could not be made.', { cause: error });
    }
  }
}

/**
 * libaom's effort for AVIF thumbnails. sharp's default, 4, took 0.8 s for a 480 px and 2.3 s
 * for a 960 px thumbnail here, where 2 took 0.07 s and 0.17 s for files 6 to 7 % larger: the
 * AVIF of `generateThumbnails(…, { formats: ['avif'] })` and of sizes made on demand is made
 * while a request waits.
 */
export const AVIF_EFFORT = 2;

/** The first frame only; no pixel limit (originals were checked when they were accepted). */
const SOURCE: SharpOptions = { pages: 1, limitInputPixels: false, failOn: DECODE_FAIL_ON };

function encode(pipeline: Sharp, format: ThumbnailFormat, quality?: number): Sharp {
  // sharp drops EXIF, ICC and comments unless told to keep them: thumbnails come out stripped.
  switch (format) {
    case 'jpeg':
      return pipeline.jpeg({ quality });
    case 'webp':
      return pipeline.webp({ quality });
    case 'avif':
      return pipeline.avif({ quality, effort: AVIF_EFFORT });
    case 'tiff':
      return pipeline.tiff({ quality });
    case 'gif':
      return pipeline.gif();
    case 'png':
      return pipeline.png();
  }
}

/**
 * Renders one thumbnail straight from the original (sharp can then shrink JPEGs while
 * decoding); for several, {@link DecodedImage} decodes once.
 */
export async function renderThumbnail(
  input: Readable | Buffer | string,
  mimetype: string,
  width: number,
  height: number,
  options: ThumbnailRenderOptions = {},
): Promise<RenderedThumbnail> {
  input = await svgInMemory(input, mimetype);
  const source =
    typeof input === 'string' || Buffer.isBuffer(input) ? sharp(input, SOURCE) : sharp(SOURCE);
  const fed = feedFrom(input, source);
  const format = thumbnailFormat(mimetype, options.format);
  const pipeline = encode(
    source.rotate().resize(width, height, { fit: options.fit ?? 'fill' }),
    format,
    options.quality,
  );
  try {
    const [{ data, info }] = await Promise.all([
      pipeline.toBuffer({ resolveWithObject: true }),
      fed.done,
    ]);
    return { data, width: info.width, height: info.height, mimetype: mimetypeOfFormat(format) };
  } catch (error) {
    if (fed.failed(error)) throw error;
    throw new NotAnImageError('The thumbnail could not be made from the original.', {
      cause: error,
    });
  } finally {
    if (!(typeof input === 'string' || Buffer.isBuffer(input))) input.destroy();
  }
}

/**
 * Renders thumbnails of exactly these boxes from the original `source` (opened only when
 * needed): one straight from it (sharp can then shrink a JPEG while decoding); several from
 * one decode, shrunk while decoding to the largest box, so memory follows the thumbnails' size,
 * not the original's.
 */
export async function renderThumbnails(
  boxes: readonly { width: number; height: number; format?: ThumbnailFormat }[],
  mimetype: string,
  source: () => Promise<Readable | Buffer | string> | Readable | Buffer | string,
  options: ThumbnailRenderOptions = {},
): Promise<RenderedThumbnail[]> {
  const [only] = boxes;
  if (only === undefined) return [];
  // A box's own format, when it has one, replaces the options' (formats beside sizes).
  const renderOf = (box: { format?: ThumbnailFormat }) =>
    box.format === undefined ? options : { ...options, format: box.format };
  if (boxes.length === 1) {
    return [
      await renderThumbnail(await source(), mimetype, only.width, only.height, renderOf(only)),
    ];
  }
  const decoded = await DecodedImage.decode(await source(), mimetype, {
    width: Math.max(...boxes.map((box) => box.width)),
    height: Math.max(...boxes.map((box) => box.height)),
  });
  const rendered: RenderedThumbnail[] = [];
  for (const box of boxes) {
    rendered.push(await decoded.render(box.width, box.height, renderOf(box)));
  }
  return rendered;
}

/**
 * An SVG given by path, read into memory: librsvg resolves an SVG's relative references
 * against the folder of the file it reads, so SVGs are only ever rendered from bytes.
 */
async function svgInMemory(
  input: Readable | Buffer | string,
  mimetype: string,
): Promise<Readable | Buffer | string> {
  return typeof input === 'string' && mimetype === 'image/svg+xml' ? await readFile(input) : input;
}

/**
 * Feeds a stream into sharp. A stream that fails half-way (a store read cut off) then rejects
 * `done` with its own error, instead of an unhandled 'error' event that ends the process.
 */
function feedFrom(
  input: Readable | Buffer | string,
  target: Sharp,
): { done: Promise<void>; failed: (error: unknown) => boolean } {
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    return { done: Promise.resolve(), failed: () => false };
  }
  let readError: unknown;
  const done = feed(input, target).catch((error: unknown) => {
    readError = error;
    throw error;
  });
  // Awaited with the output; this only keeps a failure before that from going unhandled.
  done.catch(() => undefined);
  return { done, failed: (error) => readError !== undefined && error === readError };
}
