/**
 * The identity of a stored file and the layouts derived from it. The layouts are exactly
 * those of SQLAlchemy-ImageAttach, so a store written by the Python library is read unchanged.
 */
import { EXTENSIONS } from '../images/formats.js';

/** What identifies one image file in a store. */
export interface ImageKey {
  objectType: string;
  /** A bigint, or a number that is a safe integer. */
  objectId: bigint | number;
  width: number;
  height: number;
  mimetype: string;
}

/** An {@link ImageKey}, checked and normalised. */
export interface ValidImageKey {
  readonly objectType: string;
  readonly objectId: bigint;
  readonly width: number;
  readonly height: number;
  readonly mimetype: string;
  /** The file extension for the mimetype, with its dot (`.jpe` for JPEG). */
  readonly extension: string;
}

export { EXTENSIONS } from '../images/formats.js';

/** The extension of a mimetype, or a `TypeError` naming the mimetype. */
export function extensionFor(mimetype: string): string {
  const extension = EXTENSIONS[mimetype];
  if (extension === undefined) {
    throw new TypeError(
      `mimetype ${JSON.stringify(mimetype)} has no known file extension; ` +
        `expected one of ${Object.keys(EXTENSIONS).join(', ')}`,
    );
  }
  return extension;
}

/**
 * One file's identity in every layout, as one string: the extension, not the mimetype, names
 * the file (`image/bmp` and `image/ms-bmp` are one file). gc matches files to rows by it, and
 * PostgreSQL's advisory file locks hash it, so it must never change.
 */
export function fileIdentity(key: ImageKey): string {
  return `${key.objectType}\0${BigInt(key.objectId)}\0${key.width}x${key.height}${extensionFor(key.mimetype)}`;
}

/** A key as people read it, in messages and warnings: `objectType/objectId/WxH mimetype`. */
export function describeKey(key: ImageKey): string {
  return `${key.objectType}/${key.objectId}/${key.width}x${key.height} ${key.mimetype}`;
}

/** Checks an object type: one path segment, so it can never move a key out of its folder. */
export function assertObjectType(objectType: unknown): asserts objectType is string {
  if (typeof objectType !== 'string') {
    throw new TypeError(`objectType must be a string, not ${describe(objectType)}`);
  }
  if (
    objectType === '' ||
    objectType === '.' ||
    objectType === '..' ||
    /[/\\\0]/.test(objectType)
  ) {
    throw new TypeError(
      `objectType must be one path segment (not empty, ".", ".." and without "/", "\\" or NUL), ` +
        `not ${JSON.stringify(objectType)}`,
    );
  }
}

/** Turns an object id into a bigint, refusing numbers that have lost precision. */
export function toObjectId(objectId: unknown): bigint {
  if (typeof objectId === 'bigint') return objectId;
  if (typeof objectId === 'number' && Number.isSafeInteger(objectId)) return BigInt(objectId);
  throw new TypeError(
    `objectId must be a bigint or a safe integer number, not ${describe(objectId)}`,
  );
}

function assertDimension(name: 'width' | 'height', value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be an integer, not ${describe(value)}`);
  }
  if (value < 1) throw new RangeError(`${name} must be 1 or more, not ${value}`);
}

/** Checks every part of a key; throws a `TypeError` (or `RangeError`) naming the bad argument. */
export function validateImageKey(
  objectType: unknown,
  objectId: unknown,
  width: unknown,
  height: unknown,
  mimetype: unknown,
): ValidImageKey {
  assertObjectType(objectType);
  const id = toObjectId(objectId);
  assertDimension('width', width);
  assertDimension('height', height);
  if (typeof mimetype !== 'string') {
    throw new TypeError(`mimetype must be a string, not ${describe(mimetype)}`);
  }
  return {
    objectType,
    objectId: id,
    width,
    height,
    mimetype,
    extension: extensionFor(mimetype),
  };
}

/** Python's `%`: the result has the sign of the divisor. */
export function floorMod(dividend: bigint, divisor: bigint): bigint {
  return ((dividend % divisor) + divisor) % divisor;
}

/** Python's `//`: rounds toward negative infinity. */
export function floorDiv(dividend: bigint, divisor: bigint): bigint {
  return (dividend - floorMod(dividend, divisor)) / divisor;
}

/**
 * The file-system layout: `type/(id mod 1000)/(id div 1000)/id.WxH.ext`.
 * `user`, 1234, 100x80, JPEG is `['user', '234', '1', '1234.100x80.jpe']`.
 */
export function fileSystemSegments(key: ValidImageKey): [string, string, string, string] {
  const { objectType, objectId, width, height, extension } = key;
  let mod: string;
  let div: string;
  if (objectId >= MIN_SAFE && objectId <= MAX_SAFE) {
    // Number arithmetic is exact here and several times faster than bigint's.
    const id = Number(objectId);
    const remainder = ((id % 1000) + 1000) % 1000;
    mod = String(remainder);
    div = String((id - remainder) / 1000);
  } else {
    mod = floorMod(objectId, 1000n).toString();
    div = floorDiv(objectId, 1000n).toString();
  }
  return [objectType, mod, div, `${objectId}.${width}x${height}${extension}`];
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The S3 layout: `[prefix/]type/id/WxH.ext`. */
export function objectStorageKey(key: ValidImageKey, prefix = ''): string {
  const { objectType, objectId, width, height, extension } = key;
  const path = `${objectType}/${objectId}/${width}x${height}${extension}`;
  return prefix === '' ? path : `${prefix}/${path}`;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return `${typeof value} ${String(value)}`;
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return typeof value;
}
