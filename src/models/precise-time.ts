/**
 * Times to the microsecond: a `Date` (milliseconds) plus the microseconds of its second, the
 * text forms databases and SQLAlchemy keep them in, and a process clock with microseconds.
 */

/** A time to the microsecond. */
export interface PreciseTime {
  /** The time to the millisecond. */
  readonly date: Date;
  /** The microseconds of `date`'s second (0–999999); their thousands are its milliseconds. */
  readonly microseconds: number;
}

/**
 * `YYYY-MM-DD HH:MM:SS[.f…][offset]`: SQLAlchemy's SQLite form (`.ffffff`, no offset), SQLite's
 * `CURRENT_TIMESTAMP` (whole seconds), Sequelize's SQLite form (`.SSS +00:00`), PostgreSQL's
 * text of `timestamptz` (`.ffffff+00`, the fraction left out when zero) and ISO 8601 (`T`, `Z`).
 */
const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Reads a timestamp text; one without an offset is UTC, as SQLAlchemy and Sequelize write
 * them on SQLite. Digits after the sixth of the fraction are dropped (truncated, as
 * PostgreSQL keeps microseconds). `undefined` when the text is none of the forms.
 */
export function parseTimestamp(text: string): PreciseTime | undefined {
  const match = TIMESTAMP_PATTERN.exec(text.trim());
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', offset = 'Z'] = match;
  // A fraction is a fraction of a second whatever its length: `.781` is 781000 µs (SQLAlchemy
  // reads it as 781 µs, the misreading this module exists to avoid).
  const microseconds = Number(fraction.slice(0, 6).padEnd(6, '0'));
  const utc = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    Math.floor(microseconds / 1000),
  );
  const date = new Date(utc - offsetMilliseconds(offset));
  if (Number.isNaN(date.getTime()) || Number(month) > 12 || Number(day) > 31) return undefined;
  return { date, microseconds };
}

function offsetMilliseconds(offset: string): number {
  if (offset.toUpperCase() === 'Z') return 0;
  const digits = offset.slice(1).replace(/:/g, '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || '0');
  const seconds = Number(digits.slice(4, 6) || '0');
  const sign = offset.startsWith('-') ? -1 : 1;
  return sign * ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` in UTC without an offset: what SQLAlchemy writes on SQLite. */
export function formatTimestamp(time: PreciseTime): string {
  const iso = time.date.toISOString(); // 2017-10-10T12:34:56.789Z
  if (iso.length !== 24) {
    throw new RangeError(`${iso} is outside the years 0000 to 9999`);
  }
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(time.microseconds).padStart(6, '0')}`;
}

/** A time from microseconds since the epoch. */
export function fromEpochMicroseconds(value: bigint): PreciseTime {
  const milliseconds = floorDiv(value, 1000n);
  const date = new Date(Number(milliseconds));
  return {
    date,
    microseconds: date.getUTCMilliseconds() * 1000 + Number(value - milliseconds * 1000n),
  };
}

/** Microseconds since the epoch. */
export function toEpochMicroseconds(time: PreciseTime): bigint {
  return (
    BigInt(time.date.getTime() - time.date.getUTCMilliseconds()) * 1000n + BigInt(time.microseconds)
  );
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/**
 * The microseconds known for each `Date` read from or written to the database. They ride with
 * the very `Date` object they belong to, so a `createdAt` that is set anew, or a row reloaded,
 * never pairs with another time's microseconds.
 */
const microsecondsOfDate = new WeakMap<
  Date,
  { readonly time: number; readonly microseconds: number }
>();

/** Remembers `time.microseconds` for `time.date`; returns the date. */
export function rememberMicroseconds(time: PreciseTime): Date {
  microsecondsOfDate.set(time.date, {
    time: time.date.getTime(),
    microseconds: time.microseconds,
  });
  return time.date;
}

/**
 * The microseconds of `date`'s second: those remembered for it, else its milliseconds × 1000
 * (also when the `Date` was changed in place since).
 */
export function microsecondsOf(date: Date): number {
  const known = microsecondsOfDate.get(date);
  if (known !== undefined && known.time === date.getTime()) return known.microseconds;
  return date.getUTCMilliseconds() * 1000;
}

/** The last value of {@link clockMicroseconds}, which never repeats one. */
let lastMicroseconds = 0n;
/** The wall-clock time, in microseconds, at the monotonic clock's `monotonic` nanoseconds. */
let anchor: { readonly wall: bigint; readonly monotonic: bigint } | undefined;

/**
 * The wall clock to the microsecond, strictly increasing within the process: `Date.now()`'s
 * millisecond (taken as its middle), and the monotonic clock's progress since. The two drift
 * apart (by a fraction of a millisecond per second on some machines), so it anchors again
 * whenever they differ by more than a millisecond.
 */
export function clockMicroseconds(): bigint {
  const monotonic = process.hrtime.bigint();
  const wall = BigInt(Date.now());
  let now = anchor === undefined ? undefined : anchor.wall + (monotonic - anchor.monotonic) / 1000n;
  const drift = now === undefined ? 0n : now / 1000n - wall;
  if (now === undefined || drift > 1n || drift < -1n) {
    anchor = { wall: wall * 1000n + 500n, monotonic };
    now = anchor.wall;
  }
  if (now <= lastMicroseconds) now = lastMicroseconds + 1n;
  lastMicroseconds = now;
  return now;
}
