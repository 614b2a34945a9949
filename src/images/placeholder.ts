/**
 * Placeholders: a ThumbHash of an original (about 25 bytes, kept base64 in the `placeholder`
 * column), and the small PNG data URL a page paints from it until the image arrives.
 */
import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { rgbaToThumbHash, thumbHashToRGBA } from 'thumbhash';
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
    const { w, h, rgba } = thumbHashToRGBA(bytes);
    url = `data:image/png;base64,${pngOf(w, h, rgba).toString('base64')}`;
  } catch {
    return undefined;
  }
  if (dataUrls.size >= REMEMBERED) dataUrls.delete(dataUrls.keys().next().value!);
  dataUrls.set(hash, url);
  return url;
}

/**
 * A compressed PNG of RGBA pixels, written synchronously (an image's `toHTML` is). thumbhash's
 * own `thumbHashToDataURL` stores the pixels uncompressed: about 4 KB of base64 in every `<img>`,
 * where this is a few hundred bytes. Opaque pixels are written as RGB, and each row is filtered
 * by its left neighbour (PNG's Sub), which leaves a smooth ThumbHash mostly zeros.
 */
function pngOf(width: number, height: number, rgba: Uint8Array): Buffer {
  let opaque = true;
  for (let at = 3; at < rgba.length && opaque; at += 4) opaque = rgba[at] === 255;
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png, {
    colorType: opaque ? 2 : 6,
    filterType: 1,
    deflateLevel: 9,
  });
}
