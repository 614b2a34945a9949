/**
 * Sizes read from an image's container, by us, before any decoder runs: the canvas a decoder
 * or browser allocates (a GIF's logical screen, an APNG's or animated WebP's canvas, the
 * reach of every frame), the frame count (sharp reports neither a GIF's screen nor an APNG's
 * `acTL`), and the bytes of embedded ICC, EXIF and XMP. Each walk takes a bounded number of
 * steps and reads through a small window, never the whole file.
 */
import { open } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { bufferSource, fileSource, type ByteSource } from './byte-source.js';
import type { ImageFormat } from './magic.js';

export interface ImageHeaders {
  /** Pixels of the largest area one frame is decoded into: the canvas, or a frame's reach. */
  area: number;
  /** Frames the file has or declares (the larger), at least 1. */
  frames: number;
  /** Bytes of the embedded ICC profile (inflated, for PNG), EXIF and XMP; 0 when absent. */
  icc: number;
  exif: number;
  xmp: number;
}

export interface HeaderReadOptions {
  /** Counting stops once frames pass this: enough to refuse. */
  maxFrames: number;
  /** Compressed metadata is inflated only up to one byte past this. */
  maxMetadataSize: number;
}

/** Blocks, chunks or segments walked at most; a real file has far fewer before its data. */
const MAX_STEPS = 1_000_000;

/**
 * The container sizes of a JPEG, PNG, GIF or WebP (AVIF and SVG: `undefined`, sharp's header
 * read covers them). A file cut short yields what was read; the decoder judges the rest.
 * @param input a file path or the bytes.
 */
export async function readImageHeaders(
  input: string | Buffer,
  format: ImageFormat,
  options: HeaderReadOptions,
): Promise<ImageHeaders | undefined> {
  const walk = WALKS[format];
  if (walk === undefined) return undefined;
  if (Buffer.isBuffer(input)) return walk(bufferSource(input), options);
  const handle = await open(input, 'r');
  try {
    return await walk(fileSource(handle, (await handle.stat()).size), options);
  } finally {
    await handle.close();
  }
}

type Walk = (source: ByteSource, options: HeaderReadOptions) => Promise<ImageHeaders>;

const WALKS: Partial<Record<ImageFormat, Walk>> = {
  gif: walkGif,
  png: walkPng,
  webp: walkWebp,
  jpeg: walkJpeg,
};

const empty = (): ImageHeaders => ({ area: 0, frames: 0, icc: 0, exif: 0, xmp: 0 });

async function walkGif(source: ByteSource, options: HeaderReadOptions): Promise<ImageHeaders> {
  const found = empty();
  const screen = await source.read(6, 7);
  if (screen.length < 7) return { ...found, frames: 1 };
  found.area = screen.readUInt16LE(0) * screen.readUInt16LE(2);
  let pos = 13 + colourTableSize(screen[4]!);
  for (let step = 0; step < MAX_STEPS && found.frames <= options.maxFrames; step += 1) {
    const introducer = (await source.read(pos, 1))[0];
    if (introducer === 0x2c) {
      const descriptor = await source.read(pos + 1, 9);
      if (descriptor.length < 9) break;
      const reach =
        (descriptor.readUInt16LE(0) + descriptor.readUInt16LE(4)) *
        (descriptor.readUInt16LE(2) + descriptor.readUInt16LE(6));
      found.area = Math.max(found.area, reach);
      found.frames += 1;
      // Descriptor, local colour table, LZW code size, then the data's sub-blocks.
      pos = (await skipSubBlocks(source, pos + 11 + colourTableSize(descriptor[8]!))).end;
    } else if (introducer === 0x21) {
      const label = (await source.read(pos + 1, 1))[0];
      let identifier = '';
      if (label === 0xff) {
        const size = (await source.read(pos + 2, 1))[0] ?? 0;
        identifier = (await source.read(pos + 3, size)).toString('latin1');
        pos += 3 + size;
      } else {
        pos += 2;
      }
      const blocks = await skipSubBlocks(source, pos);
      if (identifier === 'ICCRGBG1012') found.icc += blocks.bytes;
      if (identifier === 'XMP DataXMP') found.xmp += blocks.bytes;
      pos = blocks.end;
    } else {
      break; // the trailer, or bytes the decoder will refuse
    }
  }
  return { ...found, frames: Math.max(1, found.frames) };
}

function colourTableSize(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

/** Walks GIF sub-blocks from `pos` to the terminator; their payload bytes and the end. */
async function skipSubBlocks(
  source: ByteSource,
  pos: number,
): Promise<{ end: number; bytes: number }> {
  let bytes = 0;
  for (let step = 0; step < MAX_STEPS && pos < source.size; step += 1) {
    const length = (await source.read(pos, 1))[0] ?? 0;
    pos += 1 + length;
    if (length === 0) break;
    bytes += length;
  }
  return { end: pos, bytes };
}

async function walkPng(source: ByteSource, options: HeaderReadOptions): Promise<ImageHeaders> {
  const found = empty();
  let declared = 0;
  let pos = 8;
  for (let step = 0; step < MAX_STEPS && pos + 8 <= source.size; step += 1) {
    const header = await source.read(pos, 8);
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    const data = pos + 8;
    if (type === 'IHDR' || type === 'fcTL') {
      const fields = await source.read(data, 20);
      if (type === 'IHDR' && fields.length >= 8) {
        found.area = Math.max(found.area, fields.readUInt32BE(0) * fields.readUInt32BE(4));
      } else if (fields.length >= 20) {
        const [width, height, x, y] = [4, 8, 12, 16].map((at) => fields.readUInt32BE(at));
        found.area = Math.max(found.area, (x! + width!) * (y! + height!));
        found.frames += 1;
      }
    } else if (type === 'acTL') {
      declared = (await source.read(data, 4)).readUInt32BE(0);
    } else if (type === 'eXIf') {
      found.exif += length;
    } else if (PNG_METADATA[type] !== undefined) {
      found[PNG_METADATA[type]] += await pngMetadataSize(source, data, length, type, options);
    } else if (type === 'IEND') {
      break;
    }
    if (Math.max(found.frames, declared) > options.maxFrames) break;
    pos = data + length + 4;
  }
  return { ...found, frames: Math.max(1, found.frames, declared) };
}

/** PNG chunks that may hold metadata, and the kind they hold. */
const PNG_METADATA: Readonly<Record<string, 'icc' | 'xmp'>> = {
  iCCP: 'icc',
  iTXt: 'xmp',
  zTXt: 'xmp',
  tEXt: 'xmp',
};

/**
 * The bytes an `iCCP` profile or an XMP text chunk (`iTXt`, or libvips' `zTXt`/`tEXt`, keyword
 * `XML:com.adobe.xmp`) inflates to, counting no further than one past the limit; a chunk
 * stored larger than the limit counts as its stored size, unread.
 */
async function pngMetadataSize(
  source: ByteSource,
  data: number,
  length: number,
  type: string,
  options: HeaderReadOptions,
): Promise<number> {
  const icc = type === 'iCCP';
  if (length > options.maxMetadataSize) return icc || (await isXmp(source, data)) ? length : 0;
  const bytes = await source.read(data, length);
  const keywordEnd = bytes.indexOf(0);
  if (keywordEnd < 0) return 0;
  if (!icc && bytes.toString('latin1', 0, keywordEnd) !== 'XML:com.adobe.xmp') return 0;
  let compressed = type !== 'tEXt';
  let text = keywordEnd + (compressed ? 2 : 1); // keyword, NUL, compression method
  if (type === 'iTXt') {
    compressed = bytes[keywordEnd + 1] === 1;
    const language = bytes.indexOf(0, keywordEnd + 3);
    const translated = language < 0 ? -1 : bytes.indexOf(0, language + 1);
    if (translated < 0) return 0;
    text = translated + 1;
  }
  if (!compressed) return length - text;
  try {
    return inflateSync(bytes.subarray(text), { maxOutputLength: options.maxMetadataSize + 1 })
      .length;
  } catch (error) {
    // Past the limit (RangeError), or corrupt data that the decoder will judge.
    return error instanceof RangeError ? options.maxMetadataSize + 1 : 0;
  }
}

async function isXmp(source: ByteSource, data: number): Promise<boolean> {
  return (await source.read(data, 18)).toString('latin1') === 'XML:com.adobe.xmp\0';
}

async function walkWebp(source: ByteSource, options: HeaderReadOptions): Promise<ImageHeaders> {
  const found = empty();
  let pos = 12;
  for (let step = 0; step < MAX_STEPS && pos + 8 <= source.size; step += 1) {
    const header = await source.read(pos, 8);
    const type = header.toString('latin1', 0, 4);
    const size = header.readUInt32LE(4);
    const data = pos + 8;
    if (type === 'VP8X' || type === 'ANMF') {
      const fields = await source.read(data, 12);
      if (fields.length < 12) break;
      if (type === 'VP8X') {
        found.area = Math.max(
          found.area,
          (1 + fields.readUIntLE(4, 3)) * (1 + fields.readUIntLE(7, 3)),
        );
      } else {
        const [x, y, width, height] = [0, 3, 6, 9].map((at) => fields.readUIntLE(at, 3));
        found.area = Math.max(found.area, (2 * x! + 1 + width!) * (2 * y! + 1 + height!));
        found.frames += 1;
      }
    } else if (type === 'VP8 ') {
      const fields = await source.read(data + 6, 4);
      if (fields.length === 4) {
        const area = (fields.readUInt16LE(0) & 0x3fff) * (fields.readUInt16LE(2) & 0x3fff);
        found.area = Math.max(found.area, area);
      }
    } else if (type === 'VP8L') {
      const fields = await source.read(data + 1, 4);
      if (fields.length === 4) {
        const bits = fields.readUInt32LE(0);
        found.area = Math.max(found.area, ((bits & 0x3fff) + 1) * (((bits >>> 14) & 0x3fff) + 1));
      }
    } else if (type === 'ICCP') {
      found.icc += size;
    } else if (type === 'EXIF') {
      found.exif += size;
    } else if (type === 'XMP ') {
      found.xmp += size;
    }
    if (found.frames > options.maxFrames) break;
    pos = data + size + (size % 2);
  }
  return { ...found, frames: Math.max(1, found.frames) };
}

const XMP_PREFIXES = ['http://ns.adobe.com/xap/1.0/\0', 'http://ns.adobe.com/xmp/extension/\0'];

/** JPEG segments up to the first scan: libjpeg reads ICC, EXIF and XMP only from there. */
async function walkJpeg(source: ByteSource): Promise<ImageHeaders> {
  const found = { ...empty(), frames: 1 };
  let pos = 2;
  for (let step = 0; step < MAX_STEPS && pos + 4 <= source.size; step += 1) {
    const header = await source.read(pos, 4);
    if (header[0] !== 0xff) break;
    const marker = header[1]!;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      pos += 2;
      continue;
    }
    const length = header.readUInt16BE(2);
    const data = pos + 4;
    if (isStartOfFrame(marker)) {
      const fields = await source.read(data + 1, 4);
      if (fields.length === 4) {
        found.area = Math.max(found.area, fields.readUInt16BE(0) * fields.readUInt16BE(2));
      }
    } else if (marker === 0xe1 || marker === 0xe2) {
      const prefix = (await source.read(data, 35)).toString('latin1');
      if (marker === 0xe2 && prefix.startsWith('ICC_PROFILE\0')) found.icc += length - 2 - 14;
      else if (marker === 0xe1 && prefix.startsWith('Exif\0')) found.exif += length - 2;
      else if (marker === 0xe1 && XMP_PREFIXES.some((p) => prefix.startsWith(p))) {
        found.xmp += length - 2;
      }
    }
    pos += 2 + length;
  }
  return found;
}

function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}
