/**
 * Key ranges within one object type, for a distributed gc: the keys `type/id/WxH.ext` whose
 * id starts with given decimal digits. A range is a prefix of the key string, so S3 lists it
 * with `Prefix`, it is one contiguous stretch of gc's UTF-8 key order, and its rows are a few
 * intervals of an integer id column. The prefixes of one split are prefix-free and cover every
 * decimal id (negative, zero, any length): each key falls in exactly one range.
 */
import { literal, Op, type WhereOptions } from 'sequelize';

/**
 * The id prefixes of a split `depth` digits deep: `-` (every negative id), `0`, and for each
 * leading digit string `p` shorter than `depth`, the id `p` alone (`p/`) and `p0`…`p9`.
 * Depth 1 is 11 ranges, depth 2 is 101, depth 3 is 1001.
 */
export function idPrefixes(depth: number): string[] {
  const expand = (prefix: string, left: number): string[] =>
    left === 0
      ? [prefix]
      : [`${prefix}/`, ...DIGITS.flatMap((digit) => expand(prefix + digit, left - 1))];
  return ['-', '0', ...DIGITS.slice(1).flatMap((digit) => expand(digit, depth - 1))];
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** `-`, `0`, digits not starting with 0, or such digits then `/` (that id alone). */
export const ID_PREFIX = /^(?:-|0\/?|[1-9]\d*\/?)$/;

/** The smallest depth whose split has at least `parts` ranges (at most 4: 10,001 ranges). */
export function depthFor(parts: number): number {
  let depth = 1;
  while (depth < 4 && 1 + 10 ** depth < parts) depth += 1;
  return depth;
}

/** The keys of one range start with this: `type/` plus the id prefix. */
export function rangeKeyPrefix(objectType: string, idPrefix = ''): string {
  return `${objectType}/${idPrefix}`;
}

/**
 * The rows of an integer id column whose decimal id starts with `idPrefix`, as intervals:
 * `12` is 12, 120–129, 1200–1299, … up to 20 digits (an unsigned 64-bit id). Only an
 * optimisation: callers still check each row's key, so a superset would do.
 */
export function idColumnWhere(attribute: string, idPrefix: string): WhereOptions {
  if (idPrefix === '-') return { [attribute]: { [Op.lt]: 0 } };
  const exact = idPrefix.endsWith('/') || idPrefix === '0';
  const digits = BigInt(idPrefix.replace('/', ''));
  if (exact) return { [attribute]: value(digits) };
  const intervals: WhereOptions[] = [];
  for (let scale = 1n; digits * scale <= MAX_ID; scale *= 10n) {
    const upTo = (digits + 1n) * scale - 1n;
    intervals.push({
      [attribute]: {
        [Op.gte]: value(digits * scale),
        [Op.lte]: value(upTo > MAX_ID ? MAX_ID : upTo),
      },
    });
  }
  return { [Op.or]: intervals };
}

/** The largest id a column can hold on any dialect (MySQL's unsigned BIGINT). */
const MAX_ID = 2n ** 64n - 1n;

/**
 * A number where it is exact; beyond, the digits unquoted (a string would be cast to the
 * column's type, and fail on PostgreSQL past its range, where a numeric literal compares).
 */
function value(id: bigint): unknown {
  return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : literal(id.toString());
}
