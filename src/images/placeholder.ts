/**
 * Placeholders: a ThumbHash of an original (about 25 bytes, kept base64 in the `placeholder`
 * column), and the small PNG data URL a page paints from it until the image arrives.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { rgbaToThumbHash, thumbHashToDataURL } from 'thumbhash';
import { DECODE_FAIL_ON } from './fail-on.js';

/** ThumbHash encodes at most 100x100 pixels. */
const MAX_SIDE = 100;
/** Pages repeat the same images: data URLs made lately are kept, up to this many. */
const REMEMBERED = 500;
const dataUrls = new Map<string, string>();

/**
 * The ThumbHash of an image (a path or its bytes), base64: upright, first frame, shrunk to
 * 100x100 at most while decoding.
 */
export async function thumbHashOf(input: string | Buffer, mimetype: string): Promise<string> {
  // librsvg resolves an SVG's relative references against its folder: SVGs only from bytes.
  const source =
    typeof input === 'string' && mimetype === 'image/svg+xml' ? await readFile(input) : input;
  const { data, info } = await sharp(source, {
    pages: 1,
    limitInputPixels: false,
    failOn: DECODE_FAIL_ON,
  })
    .rotate()
    .resize(MAX_SIDE, MAX_SIDE, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
}

/** The PNG data URL a ThumbHash (base64) renders to, or `undefined` when it is not one. */
export function placeholderDataUrl(hash: string): string | undefined {
  const known = dataUrls.get(hash);
  if (known !== undefined) return known;
  let url: string;
  try {
    const bytes = Buffer.from(hash, 'base64');
    // The shortest ThumbHash is 5 bytes of header and a few of colours.
    if (bytes.length < 5) return undefined;
    url = thumbHashToDataURL(bytes);
  } catch {
    return undefined;
  }
  if (dataUrls.size >= REMEMBERED) dataUrls.delete(dataUrls.keys().next().value!);
  dataUrls.set(hash, url);
  return url;
}
