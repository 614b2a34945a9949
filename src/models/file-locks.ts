/**
 * The lock that keeps a file key's writers apart from whoever decides, after a commit, whether
 * the file under that key may be deleted or overwritten.
 *
 * - PostgreSQL: a transaction-level advisory lock on a 64-bit hash of the key. Every writer of
 *   a key takes it in its own transaction before writing, so it holds it until it commits or
 *   rolls back; the post-commit work takes it too, and so waits for that writer to finish.
 * - SQLite: a writer holds the database's write lock from its BEGIN IMMEDIATE on (after its
 *   turn among the process's writers, `write-turns.ts`), and the post-commit work runs in an
 *   IMMEDIATE transaction too, which excludes every other writer.
 * - MySQL and MariaDB: an InnoDB row lock on the key's row of a small table of the library's,
 *   `imageattach_key_lock` (a BIGINT primary key, the same 64-bit hash), taken by an upsert, so
 *   that COMMIT and ROLLBACK free it as PostgreSQL's are freed. (`GET_LOCK` belongs to the
 *   session, not the transaction, and Sequelize returns the connection to the pool during
 *   `commit()`: nothing could release it at the right moment on the right connection.) A
 *   ROLLBACK TO SAVEPOINT does not free InnoDB row locks, so the post-commit work takes each
 *   key's lock in a transaction of its own (see {@link locksOutliveSavepoints}). The rows stay
 *   (one per key ever written, 8 bytes each): deleting them could race with a waiting writer.
 * - Other dialects: no lock is taken; the post-commit check of the rows still runs, but a writer
 *   that inserted a row for the key and has not committed yet is not seen by it.
 */
import { createHash } from 'node:crypto';
import type { Model } from 'sequelize';
import { DataTypes, QueryTypes, Transaction, type ModelStatic, type Sequelize } from 'sequelize';
import { JournalTableMissingError } from '../errors.js';
import { fileIdentity, type ImageKey } from '../stores/keys.js';
import { imageTransaction } from './image-transaction.js';
import { toBusyError } from './sqlite-setup.js';

/** The table of MySQL's and MariaDB's key locks. */
export const KEY_LOCK_TABLE = 'imageattach_key_lock';
const KEY_LOCK_MODEL = 'ImageAttachKeyLock';

function isMysql(sequelize: Sequelize): boolean {
  const dialect = sequelize.getDialect();
  return dialect === 'mysql' || dialect === 'mariadb';
}

/**
 * The key-lock table's model on a MySQL or MariaDB `sequelize` (so `sync()` creates it),
 * defined the first time it is asked for; `undefined` on other dialects, which need none.
 */
export function keyLockModel(sequelize: Sequelize): ModelStatic<Model> | undefined {
  if (!isMysql(sequelize)) return undefined;
  if (sequelize.isDefined(KEY_LOCK_MODEL)) return sequelize.model(KEY_LOCK_MODEL);
  return sequelize.define(
    KEY_LOCK_MODEL,
    { lockId: { type: DataTypes.BIGINT, primaryKey: true, allowNull: false, field: 'lock_id' } },
    { tableName: KEY_LOCK_TABLE, timestamps: false },
  );
}

/**
 * Whether rolling back to a savepoint keeps the key locks taken after it (InnoDB), so that
 * the post-commit work must take each key's lock in a transaction of its own.
 */
export function locksOutliveSavepoints(sequelize: Sequelize): boolean {
  return isMysql(sequelize);
}

/** The advisory lock id of a key: the first 64 bits of the SHA-256 of its stored name. */
export function lockIdOf(key: ImageKey): string {
  return createHash('sha256').update(fileIdentity(key)).digest().readBigInt64BE(0).toString();
}

/** Takes `key`'s lock for the rest of `transaction` (PostgreSQL, MySQL; see the file comment). */
export async function lockKeyForWrite(
  sequelize: Sequelize,
  transaction: Transaction,
  key: ImageKey,
): Promise<void> {
  if (isMysql(sequelize)) {
    await lockMysqlKey(sequelize, transaction, lockIdOf(key));
    return;
  }
  if (sequelize.getDialect() !== 'postgres') return;
  await sequelize.query('SELECT pg_advisory_xact_lock(CAST(:id AS bigint))', {
    transaction,
    type: QueryTypes.SELECT,
    replacements: { id: lockIdOf(key) },
  });
}

/**
 * Takes the lock named `name` for the rest of `transaction`, as {@link lockKeyForWrite} takes a
 * key's: for work that must run once across processes (a variant made on demand). Names live
 * in a space of their own (`name:` before the hash), so they never share a key's lock.
 */
export async function lockNameForWrite(
  sequelize: Sequelize,
  transaction: Transaction,
  name: string,
): Promise<void> {
  const id = createHash('sha256').update(`name:${name}`).digest().readBigInt64BE(0).toString();
  if (isMysql(sequelize)) {
    await lockMysqlKey(sequelize, transaction, id);
    return;
  }
  if (sequelize.getDialect() !== 'postgres') return;
  await sequelize.query('SELECT pg_advisory_xact_lock(CAST(:id AS bigint))', {
    transaction,
    type: QueryTypes.SELECT,
    replacements: { id },
  });
}

/**
 * An upsert takes an exclusive lock on the row, inserted or found (a plain INSERT IGNORE would
 * take a shared one, and two shared holders upgrading deadlock). A second writer of the key
 * waits on the row, uncommitted or not, until the holder's COMMIT or ROLLBACK. The primary key
 * is unique, so InnoDB locks the record alone, no gap, under every isolation level.
 */
async function lockMysqlKey(
  sequelize: Sequelize,
  transaction: Transaction,
  id: string,
): Promise<void> {
  try {
    await sequelize.query(
      `INSERT INTO ${KEY_LOCK_TABLE} (lock_id) VALUES (CAST(:id AS SIGNED)) ` +
        'ON DUPLICATE KEY UPDATE lock_id = lock_id',
      { transaction, replacements: { id } },
    );
  } catch (error) {
    const original = (error as { original?: { errno?: unknown } }).original;
    if (original?.errno === 1146)
      throw new JournalTableMissingError(KEY_LOCK_TABLE, { cause: error });
    throw error;
  }
}

/**
 * Runs `fn` in a short transaction of its own in which {@link underKeyLock} can exclude the
 * writers of a key. On PostgreSQL it is READ COMMITTED whatever the default, so that a check
 * made after a lock was granted sees what the lock's previous holder committed.
 */
export async function inLockingTransaction<T>(
  sequelize: Sequelize,
  fn: (transaction: Transaction) => Promise<T>,
): Promise<T> {
  const dialect = sequelize.getDialect();
  // SQLite: IMMEDIATE, in its turn among the process's writers (see `write-turns.ts`).
  const transaction =
    dialect === 'sqlite'
      ? await imageTransaction(sequelize)
      : await sequelize.transaction(
          dialect === 'postgres' || isMysql(sequelize)
            ? { isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }
            : {},
        );
  let result: T;
  try {
    result = await fn(transaction);
  } catch (error) {
    await transaction.rollback().catch(() => undefined);
    throw toBusyError(error);
  }
  try {
    await transaction.commit();
  } catch (error) {
    throw toBusyError(error);
  }
  return result;
}

/**
 * Runs `fn` holding `key`'s lock, within a transaction of {@link inLockingTransaction}. On
 * PostgreSQL the lock is taken in a savepoint that is rolled back afterwards, which releases
 * it (`fn` only reads rows): holding one key at a time, this never waits in a cycle with a
 * writer that holds one key's lock and waits for another's. On MySQL and MariaDB the lock stays
 * until `transaction` ends (InnoDB keeps row locks past a savepoint's rollback): callers take
 * one key per transaction there (see {@link locksOutliveSavepoints}).
 */
export async function underKeyLock<T>(
  sequelize: Sequelize,
  transaction: Transaction,
  key: ImageKey,
  fn: () => Promise<T>,
): Promise<T> {
  if (isMysql(sequelize)) {
    await lockKeyForWrite(sequelize, transaction, key);
    return await fn();
  }
  if (sequelize.getDialect() !== 'postgres') return await fn();
  await sequelize.query('SAVEPOINT imageattach_key_lock', { transaction });
  try {
    await lockKeyForWrite(sequelize, transaction, key);
    return await fn();
  } finally {
    await sequelize.query('ROLLBACK TO SAVEPOINT imageattach_key_lock', { transaction });
  }
}
