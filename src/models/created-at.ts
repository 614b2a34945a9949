/**
 * The `created_at` column to the microsecond, as SQLAlchemy-ImageAttach keeps it: its `_ts=`
 * cache-buster prints the microseconds, so a `Date` (milliseconds) is not enough.
 *
 * - New rows are dated by the database's clock when the insert runs (the original's `now()`),
 *   written as text the database keeps whole, and remembered with their microseconds.
 * - Finds on an image model read the column a second time as text (Sequelize parses it into a
 *   `Date`, dropping the microseconds), and the microseconds ride with that `Date`.
 *
 * Each dialect says how; a dialect not listed here keeps Sequelize's dates (milliseconds).
 */
import {
  DataTypes,
  Model,
  QueryTypes,
  cast,
  col,
  fn,
  literal,
  type ModelAttributeColumnOptions,
  type FindOptions,
  type ModelStatic,
  type Sequelize,
  type Transaction,
} from 'sequelize';
import {
  clockMicroseconds,
  formatTimestamp,
  fromEpochMicroseconds,
  parseTimestamp,
  rememberMicroseconds,
  toEpochMicroseconds,
  type PreciseTime,
} from './precise-time.js';

/** What a dialect does for `created_at`. */
interface CreatedAtDialect {
  /** The time of a row inserted now, by the database's clock. */
  now(sequelize: Sequelize, transaction: Transaction | null | undefined): Promise<PreciseTime>;
  /** The SQL value that stores `time` whole. */
  value(time: PreciseTime): ReturnType<typeof literal>;
  /** The column as text the database writes with every digit it keeps. */
  text(column: string): ReturnType<typeof cast> | ReturnType<typeof fn>;
}

/** `DATE_FORMAT`'s pattern of {@link formatTimestamp}'s text. */
const MYSQL_FORMAT = '%Y-%m-%d %H:%i:%s.%f';

// DATETIME keeps no time zone: Sequelize writes and reads it in the session's `time_zone`
// (its `timezone` option, `+00:00` by default), so the library converts to and from UTC there.
// DATETIME(6) keeps microseconds; the original's DATETIME reads as `.000000`. The server's
// clock at each statement (UTC_TIMESTAMP), so the rows of one transaction are dated apart.
const MYSQL: CreatedAtDialect = {
  async now(sequelize, transaction) {
    const row = await sequelize.query<{ now: string }>(
      `SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '${MYSQL_FORMAT}') AS now`,
      { type: QueryTypes.SELECT, plain: true, transaction: transaction ?? undefined },
    );
    const time = row === null ? undefined : parseTimestamp(row.now);
    if (time === undefined) throw new Error(`MySQL gave no time: ${JSON.stringify(row)}`);
    return time;
  },
  value: (time) => literal(`CONVERT_TZ('${formatTimestamp(time)}', '+00:00', @@session.time_zone)`),
  text: (column) =>
    fn(
      'DATE_FORMAT',
      fn('CONVERT_TZ', col(column), literal('@@session.time_zone'), '+00:00'),
      MYSQL_FORMAT,
    ),
};

const DIALECTS: Readonly<Record<string, CreatedAtDialect>> = {
  // SQLite runs in this process, so its clock is this process's clock; its own
  // strftime('%f') stops at milliseconds. The text is SQLAlchemy's: UTC, six digits, no offset.
  sqlite: {
    now: () => Promise.resolve(fromEpochMicroseconds(clockMicroseconds())),
    value: (time) => literal(`'${formatTimestamp(time)}'`),
    text: (column) => cast(col(column), 'TEXT'),
  },
  // timestamp with time zone keeps microseconds; clock_timestamp() rather than now() so that
  // the rows of one transaction (an original and its replacement) are dated apart.
  postgres: {
    async now(sequelize, transaction) {
      const row = await sequelize.query<{ now: string }>(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS now",
        { type: QueryTypes.SELECT, plain: true, transaction: transaction ?? undefined },
      );
      const time = row === null ? undefined : parseTimestamp(row.now);
      if (time === undefined) throw new Error(`PostgreSQL gave no time: ${JSON.stringify(row)}`);
      return time;
    },
    value: (time) => literal(`'${formatTimestamp(time)}+00'`),
    text: (column) => cast(col(column), 'TEXT'),
  },
  mysql: MYSQL,
  mariadb: MYSQL,
};

/** The `created_at` columns made by `imageAttributes()`, which {@link createdAtColumn} adapts. */
const defaultColumns = new WeakSet<ModelAttributeColumnOptions>();

/** Marks `column` as `imageAttributes()`'s own `created_at`. */
export function markDefaultColumn(
  column: ModelAttributeColumnOptions,
): ModelAttributeColumnOptions {
  defaultColumns.add(column);
  return column;
}

/**
 * `imageAttributes()`'s `created_at` for `dialect`: on MySQL and MariaDB `DATETIME(6)` with a
 * default of `CURRENT_TIMESTAMP(6)` (a plain `DATETIME` would drop the fraction, and MySQL
 * refuses a default less precise than its column). Other columns are the application's own.
 */
export function createdAtColumn(
  column: ModelAttributeColumnOptions,
  dialect: string,
): ModelAttributeColumnOptions {
  if (!defaultColumns.has(column) || (dialect !== 'mysql' && dialect !== 'mariadb')) return column;
  return { ...column, type: DataTypes.DATE(6), defaultValue: literal('CURRENT_TIMESTAMP(6)') };
}

/** The column read as text, under a name no attribute has. */
const TEXT_ALIAS = 'imageattach_created_at_text';
/** The attribute `imageAttributes()` names `createdAt`. */
const ATTRIBUTE = 'createdAt';

/** Rows being inserted, with the time their INSERT writes. */
const inserting = new WeakMap<Model, PreciseTime>();
const installed = new WeakSet<object>();

/** Installs the hooks that date new rows and read the column to the microsecond. */
export function installCreatedAtHooks(model: ModelStatic<Model>): void {
  if (installed.has(model) || !(ATTRIBUTE in model.getAttributes())) return;
  installed.add(model);
  const sequelize = model.sequelize!;
  const dialect = DIALECTS[sequelize.getDialect()];
  const field = model.getAttributes()[ATTRIBUTE]?.field ?? ATTRIBUTE;

  model.addHook('beforeCreate', 'imageattach:created-at', async (image: Model, options) => {
    // A Date given at build is a lower bound: a replacement is dated after the row it
    // replaces, even within the same millisecond.
    const given: unknown = image.getDataValue(ATTRIBUTE);
    const floor = given instanceof Date ? given : undefined;
    if (dialect === undefined) {
      image.setDataValue(ATTRIBUTE, new Date(Math.max(Date.now(), floor?.getTime() ?? 0)));
      return;
    }
    let time = await dialect.now(sequelize, options.transaction);
    if (floor !== undefined && toEpochMicroseconds(time) < BigInt(floor.getTime()) * 1000n) {
      time = { date: floor, microseconds: floor.getUTCMilliseconds() * 1000 };
    }
    inserting.set(image, time);
    image.setDataValue(ATTRIBUTE, dialect.value(time));
  });
  model.addHook('afterCreate', 'imageattach:created-at', (image: Model) => {
    const time = inserting.get(image);
    if (time === undefined) return;
    inserting.delete(image);
    // Instead of the SQL value, or of what PostgreSQL's RETURNING gave (milliseconds).
    image.setDataValue(ATTRIBUTE, rememberMicroseconds(time));
  });
  if (dialect === undefined) return;

  model.addHook('beforeFindAfterOptions', 'imageattach:created-at', (options: FindOptions) => {
    // Raw and grouped results are the caller's shape; joins would make the column ambiguous.
    if (options.raw === true || options.group !== undefined || options.include !== undefined) {
      return;
    }
    const attributes = options.attributes;
    if (!Array.isArray(attributes)) return;
    // The column itself, not an expression named after it (e.g. an aggregate).
    const selected = attributes.some(
      (attribute) =>
        attribute === ATTRIBUTE ||
        (Array.isArray(attribute) && attribute[0] === field && attribute[1] === ATTRIBUTE),
    );
    if (!selected) return;
    attributes.push([dialect.text(field), TEXT_ALIAS]);
    // The rows are built with these attributes only: the text must be among them to arrive.
    const built = (options as { originalAttributes?: unknown }).originalAttributes;
    if (Array.isArray(built)) built.push(TEXT_ALIAS);
  });
  model.addHook('afterFind', 'imageattach:created-at', (result: unknown) => {
    for (const row of Array.isArray(result) ? result : [result]) {
      if (row instanceof Model) readPreciseTime(row);
    }
  });
}

/** Moves the text read beside the row's columns into its `createdAt`, microseconds and all. */
function readPreciseTime(row: Model): void {
  const values = row.dataValues as Record<string, unknown>;
  if (!(TEXT_ALIAS in values)) return;
  const text = values[TEXT_ALIAS];
  delete values[TEXT_ALIAS];
  const previous = (row as unknown as { _previousDataValues: Record<string, unknown> })
    ._previousDataValues;
  delete previous[TEXT_ALIAS];
  const time = typeof text === 'string' ? parseTimestamp(text) : undefined;
  if (time === undefined) return;
  const date = rememberMicroseconds(time);
  values[ATTRIBUTE] = date;
  previous[ATTRIBUTE] = date;
}
