/**
 * Magic-number sniffing: what the first bytes of a file say it is. Uploads are typed from
 * their bytes, never from the client's content type or file name, and formats outside the
 * allow-list are refused before any decoder sees them.
 */
import { mimetypeOfFormat as mimetypeOf } from './formats.js';

/** The formats an upload may be, by the names the options use. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'svg' | 'pdf';

/** What the first bytes of a file say it is. */
export interface SniffedType {
  /** The format's name: an {@link ImageFormat}, or another image format sharp knows. */
  format: ImageFormat | 'heic' | 'tiff' | 'bmp' | 'ico' | 'jxl' | 'jp2' | 'pdf';
  mimetype: string;
}

/** Bytes enough for every signature below, and for an SVG's prologue and comments. */
export const SNIFF_BYTES = 4096;

/** The mimetype of an allow-listed format. */
export function mimetypeOfFormat(format: SniffedType['format']): string {
  return mimetypeOf(format);
}

/**
 * The type the first bytes of a file show, or `undefined` when they match no known image
 * signature.
 * @param head the file's first bytes; {@link SNIFF_BYTES} of them are enough.
 */
export function sniffImageType(head: Uint8Array): SniffedType | undefined {
  const format = sniffFormat(head);
  return format === undefined ? undefined : { format, mimetype: mimetypeOf(format) };
}

function sniffFormat(head: Uint8Array): SniffedType['format'] | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'webp';
  if (ascii(head, 4, 8) === 'ftyp') return sniffIsoBrand(head);
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) {
    return 'tiff';
  }
  if (ascii(head, 0, 2) === 'BM' && head.length >= 14) return 'bmp';
  if (startsWith(head, [0x00, 0x00, 0x01, 0x00]) && head.length >= 6 && head[4]! > 0) return 'ico';
  if (startsWith(head, [0xff, 0x0a])) return 'jxl';
  if (startsWith(head, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) {
    return 'jxl';
  }
  if (startsWith(head, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) {
    return 'jp2';
  }
  if (ascii(head, 0, 5) === '%PDF-') return 'pdf';
  if (looksLikeSvg(head)) return 'svg';
  return undefined;
}

/** HEIF files (AVIF among them) name their brands in the leading `ftyp` box. */
function sniffIsoBrand(head: Uint8Array): SniffedType['format'] | undefined {
  const boxSize = readUint32(head, 0);
  const end = Math.min(boxSize, head.length);
  const brands = [ascii(head, 8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4)
    brands.push(ascii(head, offset, offset + 4));
  if (brands.includes('avif') || brands.includes('avis')) return 'avif';
  if (
    ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'].some((b) => brands.includes(b))
  ) {
    return 'heic';
  }
  return undefined;
}

/**
 * An SVG starts, after an optional UTF-8 byte order mark and white space, with an XML
 * declaration, another processing instruction (`<?xml-stylesheet …?>`, which the safety check
 * then refuses), a comment, a DOCTYPE or the `<svg` element itself, and names `<svg` early.
 * Text in other encodings is not recognised, so the safety check never has to decode it.
 */
function looksLikeSvg(head: Uint8Array): boolean {
  let text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8');
  if (text.startsWith('\ufeff')) text = text.slice(1);
  text = text.trimStart();
  if (!/^<(\?[a-z_:]|!--|!doctype\s|svg[\s>/:])/i.test(text)) return false;
  return /<svg[\s>/]/i.test(text) || /<[^\s<>:/!?]+:svg[\s>/]/i.test(text);
}

function startsWith(head: Uint8Array, signature: readonly number[]): boolean {
  return head.length >= signature.length && signature.every((byte, i) => head[i] === byte);
}

function ascii(head: Uint8Array, start: number, end: number): string {
  if (head.length < end) return '';
  return String.fromCharCode(...head.subarray(start, end));
}

function readUint32(head: Uint8Array, offset: number): number {
  if (head.length < offset + 4) return 0;
  return (
    ((head[offset]! << 24) |
      (head[offset + 1]! << 16) |
      (head[offset + 2]! << 8) |
      head[offset + 3]!) >>>
    0
  );
}
