/**
 * The one order in which `gc` merges a store's listing with the image rows: the UTF-8 bytes of
 * the S3 layout's key, `type/id/WxH.ext`. S3 lists in exactly this order, and it is the only
 * order that both sides can agree on: the database sorts ids as numbers (9 before 10, where S3
 * puts `photo/10/…` before `photo/9/…`), a folder-by-folder walk of the file-system layout
 * follows `id mod 1000`, and JavaScript's `<` compares UTF-16 code units, which put U+FF5E
 * after U+1F600 where UTF-8 puts it before.
 */
import { extensionFor, type ImageKey } from './keys.js';

/** `type/id/WxH.ext` of a key: what the two sides of gc's merge are sorted by. */
export function orderKeyOf(key: ImageKey): string {
  const { objectType, objectId, width, height, mimetype } = key;
  return `${objectType}/${BigInt(objectId)}/${width}x${height}${extensionFor(mimetype)}`;
}

/**
 * Compares two strings by their UTF-8 bytes without encoding them: code units below the
 * surrogates compare alike in both encodings, and lifting the surrogates above U+E000–U+FFFF
 * gives code point order, which is UTF-8's.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return lift(x) - lift(y);
  }
  return a.length - b.length;
}

function lift(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}
