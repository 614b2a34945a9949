/**
 * The staged-file journal: one row per staged write (a same-size, same-type replacement whose
 * bytes wait under a staging key until the commit), inserted in the same transaction as the
 * image row. Its presence after the transaction says whether the write committed, whatever the
 * precision of the image table's `created_at`: a column keeping whole seconds cannot tell two
 * replacements of one second apart, a committed random token can. Rows live no longer than
 * their write is pending: the post-commit move deletes them, and so does any transaction that
 * deletes an image row of their key.
 *
 * The table is the library's own (the image tables keep the original's columns). `Image.init`
 * registers its model, so `sequelize.sync()` creates it; existing applications create it once
 * with {@link createImageAttachTables}. Only what Sequelize generates is used, on every dialect.
 */
import { randomBytes } from 'node:crypto';
import type { Model } from 'sequelize';
import {
  DataTypes,
  Op,
  type ModelStatic,
  type Sequelize,
  type Transaction,
  type WhereOptions,
} from 'sequelize';
import { JournalTableMissingError } from '../errors.js';
import type { ImageKey } from '../stores/keys.js';
import { keyLockModel } from './file-locks.js';
import { usedUploadTokenModel } from './used-upload-tokens.js';

/** The journal's table. */
export const STAGED_JOURNAL_TABLE = 'imageattach_staged_file';
const MODEL_NAME = 'ImageAttachStagedFile';

/** A row of the journal: the token of one staged write and the key it is meant for. */
export interface StagedJournalRow {
  /** 32 hex digits, also the last segment of the staged file's object type. */
  readonly token: string;
  readonly objectType: string;
  /** A decimal string: object ids are integers of any size. */
  readonly objectId: string;
  readonly width: number;
  readonly height: number;
  readonly mimetype: string;
  /** Whether the image is an original (stores may cache thumbnails as reproducible). */
  readonly original: boolean;
  /** When the write was staged, by the writer's clock: only gc's grace period reads it. */
  readonly createdAt: Date;
}

type JournalModel = ModelStatic<Model<StagedJournalRow, StagedJournalRow>>;

/** The journal's model on `sequelize`, defined the first time it is asked for. */
export function stagedJournalModel(sequelize: Sequelize): JournalModel {
  if (sequelize.isDefined(MODEL_NAME)) return sequelize.model(MODEL_NAME);
  return sequelize.define<Model<StagedJournalRow, StagedJournalRow>>(
    MODEL_NAME,
    {
      token: { type: DataTypes.STRING(32), primaryKey: true, allowNull: false },
      objectType: { type: DataTypes.STRING(255), allowNull: false, field: 'object_type' },
      objectId: { type: DataTypes.STRING(255), allowNull: false, field: 'object_id' },
      width: { type: DataTypes.INTEGER, allowNull: false },
      height: { type: DataTypes.INTEGER, allowNull: false },
      mimetype: { type: DataTypes.STRING(255), allowNull: false },
      original: { type: DataTypes.BOOLEAN, allowNull: false },
      createdAt: { type: DataTypes.DATE, allowNull: false, field: 'created_at' },
    },
    { tableName: STAGED_JOURNAL_TABLE, timestamps: false },
  );
}

/**
 * Creates the library's own tables when they are missing (the staged-file journal,
 * `imageattach_staged_file`, and on MySQL and MariaDB the key locks, `imageattach_key_lock`; the
 * used direct-upload tokens, `imageattach_upload_token`); safe to run at every start-up. `sequelize.sync()` creates them
 * too; applications whose tables exist already (those of SQLAlchemy-ImageAttach included) call
 * this once when upgrading.
 *
 * @example
 * await createImageAttachTables(sequelize); // before recoverStagedFiles() and app.listen()
 */
export async function createImageAttachTables(sequelize: Sequelize): Promise<void> {
  await stagedJournalModel(sequelize).sync();
  await keyLockModel(sequelize)?.sync();
  await usedUploadTokenModel(sequelize).sync();
  verified.add(sequelize);
}

/** A new token: 128 random bits, so no two writes of any process ever share one. */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

export function isToken(text: string): boolean {
  return /^[0-9a-f]{32}$/.test(text);
}

/** The instances whose journal table was seen (a missing one is looked for again). */
const verified = new WeakSet<Sequelize>();

/**
 * Whether the journal table exists; once seen, it is not looked for again unless `recheck`.
 * Inside a transaction the probe runs in a savepoint, so that a missing table does not abort
 * the transaction (PostgreSQL would).
 */
export async function journalTableExists(
  sequelize: Sequelize,
  transaction?: Transaction | null,
  recheck = false,
): Promise<boolean> {
  if (verified.has(sequelize) && !recheck) return true;
  const model = stagedJournalModel(sequelize);
  const probe = (t?: Transaction) =>
    model.findOne({ where: { token: '' }, attributes: ['token'], transaction: t });
  try {
    if (transaction === undefined || transaction === null) await probe();
    else await sequelize.transaction({ transaction }, (savepoint) => probe(savepoint));
  } catch (error) {
    if (isMissingTable(error)) return false;
    throw error;
  }
  verified.add(sequelize);
  return true;
}

/** Rejects with `JournalTableMissingError` (naming the upgrade call) when the table is missing. */
export async function assertJournalTable(
  sequelize: Sequelize,
  transaction?: Transaction | null,
  recheck = false,
): Promise<void> {
  if (!(await journalTableExists(sequelize, transaction, recheck))) {
    verified.delete(sequelize);
    throw new JournalTableMissingError(STAGED_JOURNAL_TABLE);
  }
}

/** The missing-table errors of SQLite, PostgreSQL and MySQL/MariaDB. */
export function isMissingTable(error: unknown): boolean {
  const original = (error as { original?: { code?: unknown; errno?: unknown; message?: unknown } })
    ?.original;
  if (original === undefined || original === null) return false;
  return (
    original.code === '42P01' || // PostgreSQL undefined_table
    original.code === 'ER_NO_SUCH_TABLE' || // MySQL, MariaDB
    original.errno === 1146 ||
    (original.code === 'SQLITE_ERROR' && /no such table/i.test(String(original.message)))
  );
}

/** Journals a staged write of `key` in `transaction` (the image row's). */
export async function recordToken(
  sequelize: Sequelize,
  transaction: Transaction,
  token: string,
  key: ImageKey,
  original: boolean,
): Promise<void> {
  await assertJournalTable(sequelize, transaction);
  const { objectType, objectId, width, height, mimetype } = key;
  try {
    await stagedJournalModel(sequelize).create(
      {
        token,
        objectType,
        objectId: BigInt(objectId).toString(),
        width,
        height,
        mimetype,
        original,
        createdAt: new Date(),
      },
      { transaction },
    );
  } catch (error) {
    // Dropped since it was seen: the write fails (and rolls back) all the same.
    if (!isMissingTable(error)) throw error;
    verified.delete(sequelize);
    throw new JournalTableMissingError(STAGED_JOURNAL_TABLE, { cause: error });
  }
}

/** The journal row of `token`, as `transaction` sees it. */
export async function findToken(
  sequelize: Sequelize,
  token: string,
  transaction?: Transaction,
): Promise<StagedJournalRow | undefined> {
  const row = await stagedJournalModel(sequelize).findByPk(token, { transaction });
  return row === null ? undefined : row.get({ plain: true });
}

/** The journal rows of `key` (pending writes of it), as `transaction` sees them. */
export async function tokensOfKey(
  sequelize: Sequelize,
  key: ImageKey,
  transaction?: Transaction,
): Promise<StagedJournalRow[]> {
  const rows = await stagedJournalModel(sequelize).findAll({
    where: whereKey(key),
    transaction,
  });
  return rows.map((row) => row.get({ plain: true }));
}

/** Every journal row. The table holds only writes not yet moved into place: it stays small. */
export async function allTokens(sequelize: Sequelize): Promise<StagedJournalRow[]> {
  const rows = await stagedJournalModel(sequelize).findAll({ order: [['token', 'ASC']] });
  return rows.map((row) => row.get({ plain: true }));
}

/** Every journal row, by token, `pageSize` per query: rows deleted meanwhile are never missed. */
export async function* journalRows(
  sequelize: Sequelize,
  pageSize = 1000,
): AsyncGenerator<StagedJournalRow> {
  let after: string | undefined;
  for (;;) {
    const rows = await stagedJournalModel(sequelize).findAll({
      where: after === undefined ? {} : { token: { [Op.gt]: after } },
      order: [['token', 'ASC']],
      limit: pageSize,
    });
    for (const row of rows) yield row.get({ plain: true });
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.get({ plain: true }).token;
  }
}

export async function deleteTokens(
  sequelize: Sequelize,
  tokens: readonly string[],
  transaction?: Transaction,
): Promise<void> {
  if (tokens.length === 0) return;
  await stagedJournalModel(sequelize).destroy({ where: { token: [...tokens] }, transaction });
}

/**
 * Deletes the journal rows of `key` in `transaction`, which deletes an image row of that key:
 * whatever was staged for the key belongs to a row that is gone once this commits. Nothing to
 * do (and no query beyond the first probe) when the table does not exist: then nothing was
 * ever staged through it.
 */
export async function deleteTokensOfKey(
  sequelize: Sequelize,
  key: ImageKey,
  transaction: Transaction,
): Promise<void> {
  if (!(await journalTableExists(sequelize, transaction))) return;
  try {
    await stagedJournalModel(sequelize).destroy({ where: whereKey(key), transaction });
  } catch (error) {
    // Dropped since it was seen (the failed statement may have aborted the transaction).
    if (!isMissingTable(error)) throw error;
    verified.delete(sequelize);
    throw new JournalTableMissingError(STAGED_JOURNAL_TABLE, { cause: error });
  }
}

function whereKey(key: ImageKey): WhereOptions<StagedJournalRow> {
  const { objectType, objectId, width, height, mimetype } = key;
  return { objectType, objectId: BigInt(objectId).toString(), width, height, mimetype };
}
