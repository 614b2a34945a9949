/**
 * Object ids for image models whose key has several columns: stores file images by one
 * integer per image set, so the columns are paired into one.
 */
import { ObjectIdError } from '../errors.js';
import type { Image } from './image.js';

/**
 * SQLAlchemy-ImageAttach's pairing for composite keys, `(a + b)² + a`: one integer for every
 * pair of non-negative integers, never the same for two pairs (between `s²` and `s² + s` for
 * `s = a + b`, and `(s + 1)²` is past that). Unbounded: bigints in, a bigint out. Files written
 * by the original with this pairing (its documentation's suggestion) keep their keys.
 * @throws {RangeError} when either is negative (map negative keys to naturals yourself first,
 * e.g. `n >= 0 ? 2n * n : -2n * n - 1n`).
 */
export function pairIntegers(a: bigint, b: bigint): bigint {
  if (a < 0n || b < 0n) {
    throw new RangeError(`pairIntegers takes non-negative integers, not ${a} and ${b}`);
  }
  return (a + b) * (a + b) + a;
}

/**
 * An `objectId` for `imageAttachment` (or `Image.objectIdOf`) that pairs the integer
 * attributes named, in order, with {@link pairIntegers}; three or more are paired from the
 * left, `pair(pair(a, b), c)`, which stays one-to-one.
 * @throws {TypeError} when fewer than two attribute names are given.
 *
 * @example
 * imageAttachment(Post, 'photos', PostPhoto, {
 *   foreignKey: 'postId',
 *   multiple: true,
 *   objectId: pairObjectId('postId', 'orderIndex'),
 * });
 */
export function pairObjectId(...attributes: string[]): (image: Image<object, object>) => bigint {
  if (attributes.length < 2 || attributes.some((name) => typeof name !== 'string' || !name)) {
    throw new TypeError('pairObjectId needs two or more attribute names');
  }
  return (image) => {
    const values = attributes.map((name) => naturalOf(image, name));
    return values.reduce((paired, value) => pairIntegers(paired, value));
  };
}

/** The attribute as a non-negative bigint; `ObjectIdError` naming it otherwise. */
function naturalOf(image: Image<object, object>, name: string): bigint {
  const value: unknown = image.get(name);
  let integer: bigint | undefined;
  if (typeof value === 'bigint') integer = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) integer = BigInt(value);
  // BIGINT columns arrive as strings from most dialects.
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) integer = BigInt(value);
  if (integer === undefined || integer < 0n) {
    throw new ObjectIdError(
      `${image.constructor.name} cannot pair its key into an objectId: ${name} is ` +
        `${JSON.stringify(String(value))}, not a non-negative integer.`,
    );
  }
  return integer;
}
