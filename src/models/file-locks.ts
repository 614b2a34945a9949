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
 * - Other dialects: no lock is taken; the post-commit check of the rows still runs, but a writer
 *   that inserted a row for the key and has not committed yet is not seen by it.
 */
import { createHash } from 'node:crypto';
import { QueryTypes, Transaction, type Sequelize } from 'sequelize';
import { fileIdentity, type ImageKey } from '../stores/keys.js';
import { imageTransaction } from './image-transaction.js';
import { toBusyError } from './sqlite-setup.js';

/** The advisory lock id of a key: the first 64 bits of the SHA-256 of its stored name. */
export function lockIdOf(key: ImageKey): string {
  return createHash('sha256').update(fileIdentity(key)).digest().readBigInt64BE(0).toString();
}

/** Takes `key`'s lock for the rest of `transaction` (PostgreSQL only; see the file comment). */
export async function lockKeyForWrite(
  sequelize: Sequelize,
  transaction: Transaction,
  key: ImageKey,
): Promise<void> {
  if (sequelize.getDialect() !== 'postgres') return;
  await sequelize.query('SELECT pg_advisory_xact_lock(CAST(:id AS bigint))', {
    transaction,
    type: QueryTypes.SELECT,
    replacements: { id: lockIdOf(key) },
  });
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
          dialect === 'postgres'
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
 * writer that holds one key's lock and waits for another's.
 */
export async function underKeyLock<T>(
  sequelize: Sequelize,
  transaction: Transaction,
  key: ImageKey,
  fn: () => Promise<T>,
): Promise<T> {
  if (sequelize.getDialect() !== 'postgres') return await fn();
  await sequelize.query('SAVEPOINT imageattach_key_lock', { transaction });
  try {
    await lockKeyForWrite(sequelize, transaction, key);
    return await fn();
  } finally {
    await sequelize.query('ROLLBACK TO SAVEPOINT imageattach_key_lock', { transaction });
  }
}
