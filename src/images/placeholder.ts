/**
 * Placeholders: a ThumbHash of an original (about 25 bytes, kept base64 in the `placeholder`
 * column), and the small PNG data URL a page paints from it until the image arrives.
 */
import { readFile } from 'node:fs/promises';
import { crc32, deflateSync } from 'node:zlib';
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

const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/**
 * A compressed PNG of RGBA pixels, written synchronously (an image's `toHTML` is). thumbhash's
 * own `thumbHashToDataURL` stores the pixels uncompressed: about 4 KB of base64 in every `<img>`,
 * where this is a few hundred bytes. Opaque pixels are written as RGB, and each row is filtered
 * by its left neighbour (PNG's Sub), which leaves a smooth ThumbHash mostly zeros.
 */
function pngOf(width: number, height: number, rgba: Uint8Array): Buffer {
  let opaque = true;
  for (let at = 3; at < rgba.length && opaque; at += 4) opaque = rgba[at] === 255;
  const channels = opaque ? 3 : 4;
  const row = width * channels;
  const filtered = Buffer.alloc(height * (row + 1));
  for (let y = 0; y < height; y += 1) {
    const out = y * (row + 1);
    filtered[out] = 1; // Sub
    for (let x = 0; x < width; x += 1) {
      for (let c = 0; c < channels; c += 1) {
        const value = rgba[(y * width + x) * 4 + c]!;
        const left = x === 0 ? 0 : rgba[(y * width + x - 1) * 4 + c]!;
        filtered[out + 1 + x * channels + c] = (value - left) & 255;
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = opaque ? 2 : 6; // RGB or RGBA
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(filtered, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
