/**
 * The HTML of an image set: `srcset` from the sizes it has, `<img srcset sizes>` and
 * `<picture>` with a `<source type>` per format, from the rows of one set.
 */
import { InvalidOptionError } from '../errors.js';
import { mimetypeOfFormat } from '../images/formats.js';
import { thumbnailFormat, type ThumbnailFormat } from '../images/thumbnail.js';
import { validateFormats } from './thumbnail-formats.js';
import {
  attributesHTML,
  imgHTML,
  validateImgOptions,
  type ImgAttributeOptions,
} from './image-html.js';
import type { Image, StoreOption } from './image.js';

/** What `srcset` takes. */
export interface SrcsetOptions extends StoreOption {
  /**
   * The widths to list, of those the set has (a width it lacks is left out).
   * @default every width the set has in the format
   */
  widths?: readonly number[];
  /** @default the original's thumbnail format (the original's own; PNG for SVG) */
  format?: ThumbnailFormat;
}

/** What a set's `toHTML` takes. */
export interface SetHTMLOptions extends StoreOption, ImgAttributeOptions {
  /**
   * The `sizes` attribute: how wide the image is shown, e.g. `'(min-width: 800px) 50vw,
   * 100vw'`, so the browser picks a candidate of `srcset` before layout.
   * @default none (browsers then take `100vw`)
   */
  sizes?: string;
  /** The widths `srcset` lists. @default every width the set has */
  widths?: readonly number[];
}

/** What `toPictureHTML` takes. */
export interface PictureHTMLOptions extends SetHTMLOptions {
  /**
   * The formats offered before the `<img>`, in the order the browser tries them; a format the
   * set has no size in is left out.
   * @default ['avif', 'webp']
   */
  formats?: readonly ThumbnailFormat[];
}

const DEFAULT_PICTURE_FORMATS: readonly ThumbnailFormat[] = ['avif', 'webp'];

/** Checks the options of `srcset`, `toHTML` and `toPictureHTML` once. */
export function validateSetHTMLOptions(options: PictureHTMLOptions & SrcsetOptions): void {
  validateImgOptions(options);
  const { widths, sizes, format } = options;
  if (widths !== undefined) {
    if (!Array.isArray(widths) || !widths.every((w) => Number.isInteger(w) && w > 0)) {
      throw new InvalidOptionError('widths', 'must be an array of positive integers');
    }
  }
  if (sizes !== undefined && typeof sizes !== 'string') {
    throw new InvalidOptionError('sizes', 'must be a string');
  }
  if (format !== undefined) {
    try {
      validateFormats([format]);
    } catch {
      throw new InvalidOptionError('format', `cannot be ${JSON.stringify(format)}`);
    }
  }
  validateFormats(options.formats);
}

/** The mimetype a set's `<img>` is in: its original's thumbnail format. */
function fallbackMimetype(original: Image): string {
  return mimetypeOfFormat(thumbnailFormat(original.mimetype));
}

/** The images of one type a srcset lists: one per width, narrowest first. */
function candidatesOf<I extends Image>(
  images: readonly I[],
  mimetype: string,
  widths: readonly number[] | undefined,
): I[] {
  const byWidth = new Map<number, I>();
  for (const image of images) {
    if (image.mimetype !== mimetype || (widths !== undefined && !widths.includes(image.width))) {
      continue;
    }
    // Of one width, the original, else the first in the set's order.
    const known = byWidth.get(image.width);
    if (known === undefined || (image.original && !known.original)) byWidth.set(image.width, image);
  }
  return [...byWidth.values()].sort((a, b) => a.width - b.width);
}

function srcsetOf(candidates: readonly Image[], options: StoreOption): string {
  return candidates.map((image) => `${image.locate(options)} ${image.width}w`).join(', ');
}

/** `srcset` of a set's images, or `''` when it has none of the format. */
export function setSrcset(images: readonly Image[], options: SrcsetOptions): string {
  const original = images.find((image) => image.original);
  if (original === undefined) return '';
  const mimetype =
    options.format === undefined ? fallbackMimetype(original) : mimetypeOfFormat(options.format);
  return srcsetOf(candidatesOf(images, mimetype, options.widths), options);
}

/**
 * `<img>` of a set: `src` the original (or, when the original is in another format than its
 * thumbnails, the widest thumbnail), `srcset` every width of that format, `width` and
 * `height` of `src`. `''` for an empty set.
 */
export function setImgHTML(images: readonly Image[], options: SetHTMLOptions): string {
  const original = images.find((image) => image.original);
  if (original === undefined) return '';
  const candidates = candidatesOf(images, fallbackMimetype(original), options.widths);
  const src =
    candidates.length === 0 || candidates.includes(original) ? original : candidates.at(-1)!;
  return imgHTML(
    {
      src: src.locate(options),
      // Of the original: the aspect ratio and the size the page lays the image out at.
      width: original.width,
      height: original.height,
      srcset: candidates.length > 1 ? srcsetOf(candidates, options) : undefined,
      sizes: options.sizes,
      placeholder: original.placeholder,
    },
    options,
  );
}

/** `<picture>` with a `<source type srcset sizes>` per format the set has, then its `<img>`. */
export function setPictureHTML(images: readonly Image[], options: PictureHTMLOptions): string {
  const img = setImgHTML(images, options);
  if (img === '') return '';
  const fallback = fallbackMimetype(images.find((image) => image.original)!);
  let sources = '';
  for (const format of options.formats ?? DEFAULT_PICTURE_FORMATS) {
    const mimetype = mimetypeOfFormat(format);
    if (mimetype === fallback) continue;
    const candidates = candidatesOf(images, mimetype, options.widths);
    if (candidates.length === 0) continue;
    sources += `<source${attributesHTML([
      ['type', mimetype],
      ['srcset', srcsetOf(candidates, options)],
      ['sizes', options.sizes],
    ])}>`;
  }
  return `<picture>${sources}${img}</picture>`;
}
