/**
 * `imageTransaction(sequelize, options?, fn?)`: `sequelize.transaction` for transactions that
 * write images. On SQLite it starts as IMMEDIATE and takes its turn among the process's writers
 * before its BEGIN (see `write-turns.ts`), and SQLITE_BUSY past the busy timeout becomes
 * `DatabaseBusyError`; on other dialects it is `sequelize.transaction` itself.
 */
import { Transaction, type Sequelize, type TransactionOptions } from 'sequelize';
import { ensureSqliteSetUp, toBusyError } from './sqlite-setup.js';
import { joinTurns } from './write-turns.js';

type Callback<T> = (transaction: Transaction) => PromiseLike<T>;

/**
 * A transaction for writing images: same arguments and result as `sequelize.transaction`.
 * Use it (or `{ type: 'IMMEDIATE' }`) for an application transaction that calls set methods
 * on SQLite, so it waits for its turn before its BEGIN rather than halfway through.
 *
 * @example
 * const [original, thumbnail] = await imageTransaction(sequelize, async (transaction) => [
 *   await user.picture.fromFile(req.file!, { transaction }),
 *   await user.picture.generateThumbnail({ width: 100 }, { transaction }),
 * ]);
 */
export function imageTransaction<T>(sequelize: Sequelize, fn: Callback<T>): Promise<T>;
export function imageTransaction<T>(
  sequelize: Sequelize,
  options: TransactionOptions,
  fn: Callback<T>,
): Promise<T>;
export function imageTransaction(
  sequelize: Sequelize,
  options?: TransactionOptions,
): Promise<Transaction>;
export async function imageTransaction<T>(
  sequelize: Sequelize,
  optionsOrFn?: TransactionOptions | Callback<T>,
  maybeFn?: Callback<T>,
): Promise<T | Transaction> {
  const given = typeof optionsOrFn === 'function' ? undefined : optionsOrFn;
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
  if (sequelize.getDialect() !== 'sqlite') {
    return fn === undefined ? sequelize.transaction(given) : sequelize.transaction(given ?? {}, fn);
  }
  ensureSqliteSetUp(sequelize);
  // A savepoint shares its root's turn; a DEFERRED root must get one first.
  if (given?.transaction) await joinTurns(sequelize, given.transaction);
  const options = {
    ...given,
    type:
      given?.type === Transaction.TYPES.EXCLUSIVE
        ? Transaction.TYPES.EXCLUSIVE
        : Transaction.TYPES.IMMEDIATE,
    // BEGIN and COMMIT waited for the busy timeout already; Sequelize's default retries on
    // SQLITE_BUSY would multiply it.
    retry: { max: 1 },
  } as TransactionOptions;
  try {
    return fn === undefined
      ? await sequelize.transaction(options)
      : await sequelize.transaction(options, fn);
  } catch (error) {
    throw toBusyError(error);
  }
}
