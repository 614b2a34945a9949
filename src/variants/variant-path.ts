/**
 * The path of a size made on demand, `/<signature>/<type>/<id>/<width>x<height>.<format>`, and
 * its signature: an HMAC-SHA256 of everything after it, base64url, compared in constant time.
 * Parsing is strict (one spelling per variant, bounded lengths) so that nothing but what was
 * signed reaches a decoder.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';
import type { ThumbnailFormat } from '../images/thumbnail.js';

/** A variant's size: one side (the other follows the original's aspect, as thumbnails do). */
export type VariantSize =
  { width: number; height?: undefined } | { height: number; width?: undefined };

/** What a variant path names. */
export interface VariantTarget {
  /** The image model's `objectType`. */
  type: string;
  /** The set's identity values, in the model's identity attribute order. */
  id: string[];
  size: VariantSize;
  format: ThumbnailFormat;
}

/** Formats a variant can be made in, by the extension of its path. */
const EXTENSIONS: ReadonlyMap<string, ThumbnailFormat> = new Map([
  ['jpeg', 'jpeg'],
  ['jpg', 'jpeg'],
  ['png', 'png'],
  ['webp', 'webp'],
  ['avif', 'avif'],
  ['gif', 'gif'],
]);
/** Bytes of a variant path at most: longer ones are not parsed at all. */
const MAX_PATH = 512;
/** Pixels a side at most, whatever `allow` says. */
const MAX_SIDE = 16_384;
const SIGNATURE_BYTES = 32;
const TYPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const SIZE = /^(?:([1-9]\d{0,4})x|x([1-9]\d{0,4}))\.([a-z]{3,4})$/;

/** A secret as bytes; `InvalidOptionError` naming `option` unless it has 32 bytes or more. */
export function secretBytes(secret: unknown, option = 'secret'): Buffer {
  const bytes =
    typeof secret === 'string'
      ? Buffer.from(secret, 'utf8')
      : secret instanceof Uint8Array
        ? Buffer.from(secret)
        : undefined;
  if (bytes === undefined || bytes.length < 32) {
    throw new InvalidOptionError(
      option,
      'must be a string or Buffer of at least 32 bytes (e.g. crypto.randomBytes(32).toString("hex"))',
    );
  }
  return bytes;
}

/** The signed part of a variant path: `<type>/<id>/<width>x<height>.<format>`. */
export function variantSubject(target: VariantTarget): string {
  const id = target.id.map((value) => encodeURIComponent(value)).join(',');
  const size = target.size.width !== undefined ? `${target.size.width}x` : `x${target.size.height}`;
  return `${encodeURIComponent(target.type)}/${id}/${size}.${target.format}`;
}

/** The signature of a variant subject. */
export function signSubject(secret: Buffer, subject: string): string {
  return createHmac('sha256', secret).update(subject).digest('base64url');
}

/** `/<signature>/<subject>`. */
export function signedVariantPath(secret: Buffer, target: VariantTarget): string {
  const subject = variantSubject(target);
  return `/${signSubject(secret, subject)}/${subject}`;
}

/**
 * Splits a request path into its signature, its signed subject and what that names.
 * @returns `undefined` for anything that is not a variant path (answered 404).
 */
export function parseVariantPath(
  path: string,
): { signature: string; subject: string; target: VariantTarget } | undefined {
  if (path.length > MAX_PATH || !path.startsWith('/')) return undefined;
  const slash = path.indexOf('/', 1);
  if (slash < 0) return undefined;
  const signature = path.slice(1, slash);
  const subject = path.slice(slash + 1);
  const target = parseSubject(subject);
  return target === undefined ? undefined : { signature, subject, target };
}

function parseSubject(subject: string): VariantTarget | undefined {
  const parts = subject.split('/');
  if (parts.length !== 3) return undefined;
  const [type, id, file] = parts as [string, string, string];
  if (!TYPE.test(type)) return undefined;
  const size = SIZE.exec(file);
  if (size === null) return undefined;
  const format = EXTENSIONS.get(size[3]!);
  if (format === undefined) return undefined;
  const width = size[1] === undefined ? undefined : Number(size[1]);
  const height = size[2] === undefined ? undefined : Number(size[2]);
  if ((width ?? height)! > MAX_SIDE) return undefined;
  let values: string[];
  try {
    values = id.split(',').map((value) => decodeURIComponent(value));
  } catch {
    return undefined;
  }
  if (values.some((value) => value === '')) return undefined;
  return {
    type,
    id: values,
    size: width !== undefined ? { width } : { height: height! },
    format,
  };
}

/** Whether `signature` is the signature of `subject`, compared in constant time. */
export function verifySignature(secret: Buffer, subject: string, signature: string): boolean {
  const given = /^[A-Za-z0-9_-]{43}$/.test(signature) ? Buffer.from(signature, 'base64url') : null;
  const expected = Buffer.from(signSubject(secret, subject), 'base64url');
  // A malformed or cut signature is compared too, against itself, so that it takes as long.
  const candidate = given !== null && given.length === SIGNATURE_BYTES ? given : expected;
  return timingSafeEqual(candidate, expected) && candidate !== expected;
}
