/**
 * SQLite write turns: one writing transaction at a time per Sequelize instance, in arrival
 * order. SQLite lets one connection write at a time; a second writer that waits for the lock
 * inside SQLite holds one of libuv's four thread-pool threads while it sleeps, starving the
 * holder's COMMIT and sharp, and a DEFERRED transaction that must upgrade its lock halfway can
 * deadlock. So every writer waits here, in a promise queue, before its `BEGIN IMMEDIATE`, and
 * lets the next one in as soon as its COMMIT or ROLLBACK statement has completed (the query
 * interface's `commitTransaction`/`rollbackTransaction`, before any post-commit work, which may
 * open a transaction of its own), when Sequelize gives up its connection after a failed one
 * (`forceCleanup`), or when its connection closes.
 *
 * `sequelize.transaction` is wrapped on SQLite instances (once, by {@link installTurns}): a root
 * transaction whose type is IMMEDIATE or EXCLUSIVE (given, or `transactionType` of the
 * Sequelize options) takes a turn before its BEGIN. A DEFERRED one takes none, unless the
 * library writes in it ({@link joinTurns}). Savepoints share their root's turn.
 */
import type { Sequelize, Transaction, TransactionOptions } from 'sequelize';
import { DeferredTransactionError } from '../errors.js';

/** A place in the queue, given back once (later calls do nothing). */
interface Turn {
  release(): void;
}

/** What this file uses of Sequelize's Transaction beyond its typings. */
interface TransactionInternals {
  parent?: Transaction | null;
  finished?: string;
  connection?: {
    once?(event: 'close', fn: () => void): unknown;
    off?(...args: unknown[]): unknown;
  };
  cleanup(): void;
  forceCleanup(): Promise<void>;
}

type Callback<T> = (transaction: Transaction) => PromiseLike<T>;

class TurnQueue {
  #held = false;
  readonly #waiting: ((turn: Turn) => void)[] = [];

  take(): Promise<Turn> {
    const turn = this.tryTake();
    if (turn !== undefined) return Promise.resolve(turn);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  tryTake(): Turn | undefined {
    if (this.#held) return undefined;
    this.#held = true;
    return this.#turn();
  }

  #turn(): Turn {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const next = this.#waiting.shift();
        if (next === undefined) this.#held = false;
        else next(this.#turn());
      },
    };
  }
}

const queues = new WeakMap<Sequelize, TurnQueue>();
/** The turn each root transaction holds. */
const holders = new WeakMap<Transaction, Turn>();
/** DEFERRED roots that have run no statement since their BEGIN: they hold no SQLite lock. */
const fresh = new WeakSet<Transaction>();
/** Roots waiting for a turn in {@link joinTurns}, so concurrent writes in one wait once. */
const joining = new WeakMap<Transaction, Promise<void>>();

function internals(transaction: Transaction): TransactionInternals {
  return transaction as unknown as TransactionInternals;
}

function rootOf(transaction: Transaction): Transaction {
  let root = transaction;
  for (let parent = internals(root).parent; parent; parent = internals(root).parent) root = parent;
  return root;
}

/** Keeps `turn` until `transaction` ends or its connection closes. */
function hold(transaction: Transaction, turn: Turn): void {
  const t = internals(transaction);
  const connection = t.connection;
  const release = () => {
    connection?.off?.('close', release);
    turn.release();
  };
  holders.set(transaction, { release });
  connection?.once?.('close', release);
  const cleanup = t.cleanup.bind(t);
  const forceCleanup = t.forceCleanup.bind(t);
  t.cleanup = function cleanupReleasingTurn() {
    try {
      cleanup();
    } finally {
      release();
    }
  };
  t.forceCleanup = async function forceCleanupReleasingTurn() {
    try {
      await forceCleanup();
    } finally {
      release();
    }
  };
}

function isWriter(sequelize: Sequelize, options: TransactionOptions | undefined): boolean {
  const defaults = (sequelize as unknown as { options: { transactionType?: unknown } }).options;
  const type: unknown = options?.type ?? defaults.transactionType;
  return type === 'IMMEDIATE' || type === 'EXCLUSIVE';
}

/**
 * Wraps `sequelize.transaction` of a SQLite instance so that IMMEDIATE and EXCLUSIVE root
 * transactions take turns (see the file comment). Does nothing on other dialects or when
 * already installed.
 */
export function installTurns(sequelize: Sequelize): void {
  if (sequelize.getDialect() !== 'sqlite' || queues.has(sequelize)) return;
  const queue = new TurnQueue();
  queues.set(sequelize, queue);
  const original: <T>(options?: TransactionOptions, fn?: Callback<T>) => Promise<T | Transaction> =
    sequelize.transaction.bind(sequelize);

  async function withTurn<T>(
    options: TransactionOptions | undefined,
    fn?: Callback<T>,
  ): Promise<T | Transaction> {
    const turn = await queue.take();
    try {
      if (fn === undefined) {
        const transaction = await original<Transaction>(options);
        hold(transaction, turn);
        return transaction;
      }
      return await original(options, (transaction) => {
        hold(transaction, turn);
        return fn(transaction);
      });
    } catch (error) {
      turn.release(); // BEGIN failed, or the connection could not be opened
      throw error;
    } finally {
      // Released by the COMMIT or ROLLBACK already; this only covers paths Sequelize skips.
      if (fn !== undefined) turn.release();
    }
  }

  function transactionTakingTurns<T>(
    optionsOrFn?: TransactionOptions | Callback<T>,
    maybeFn?: Callback<T>,
  ): Promise<T | Transaction> {
    const options = typeof optionsOrFn === 'function' ? undefined : optionsOrFn;
    const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
    if (options?.transaction) return original(options, fn); // a savepoint: its root's turn
    if (isWriter(sequelize, options)) return withTurn(options, fn);
    if (fn === undefined) {
      return original<T>(options).then((transaction) => {
        fresh.add(transaction as Transaction);
        return transaction;
      });
    }
    return original(options, (transaction) => {
      fresh.add(transaction);
      return fn(transaction);
    });
  }

  sequelize.transaction = transactionTakingTurns;
  releaseAfterStatements(sequelize);
  sequelize.addHook('beforeQuery', 'imageattach:turns', (options) => {
    if (options.transaction) fresh.delete(rootOf(options.transaction));
  });
}

/**
 * Lets the next writer in as soon as a root's COMMIT or ROLLBACK statement has completed, before
 * anything else `commit()` does (its after-commit hooks, or whatever wraps it). A statement that
 * fails keeps the turn: Sequelize then closes the connection, and `forceCleanup` releases it.
 */
function releaseAfterStatements(sequelize: Sequelize): void {
  type Ending = (this: unknown, transaction: Transaction, options?: unknown) => Promise<unknown>;
  const queryInterface = sequelize.getQueryInterface() as unknown as Record<
    'commitTransaction' | 'rollbackTransaction',
    Ending
  >;
  for (const name of ['commitTransaction', 'rollbackTransaction'] as const) {
    const end = queryInterface[name];
    queryInterface[name] = async function endReleasingTurn(transaction, options) {
      const result = await end.call(this, transaction, options);
      if (!internals(transaction).parent) holders.get(transaction)?.release();
      return result;
    };
  }
}

/** Whether `transaction`'s root holds a write turn. */
export function holdsTurn(transaction: Transaction): boolean {
  return holders.has(rootOf(transaction));
}

/**
 * Before the library writes in `transaction` (an application's) on SQLite: makes its root hold
 * a turn. An IMMEDIATE root holds one from its BEGIN. A DEFERRED one that has run nothing yet
 * holds no lock, so it can wait for a turn safely; one that has read may hold SQLite's shared
 * lock (or a WAL snapshot) that the current writer's COMMIT waits on, so waiting could
 * deadlock: it takes the turn only when it is free, and fails at once otherwise.
 * @throws {DeferredTransactionError} when a DEFERRED transaction that has run statements would
 *   have to wait for another writer.
 */
export async function joinTurns(sequelize: Sequelize, transaction: Transaction): Promise<void> {
  const queue = queues.get(sequelize);
  if (queue === undefined) return;
  const root = rootOf(transaction);
  if (holders.has(root) || internals(root).finished) return;
  const pending = joining.get(root);
  if (pending !== undefined) return pending;
  if (fresh.has(root)) {
    const joined = queue.take().then((turn) => {
      joining.delete(root);
      if (internals(root).finished) turn.release();
      else hold(root, turn);
    });
    joining.set(root, joined);
    return joined;
  }
  const turn = queue.tryTake();
  if (turn === undefined) {
    throw new DeferredTransactionError(
      'An image was written in a DEFERRED SQLite transaction that had already run statements ' +
        'while another transaction was writing: waiting could deadlock. Start the transaction ' +
        "with imageTransaction(sequelize, fn) or { type: 'IMMEDIATE' }.",
    );
  }
  hold(root, turn);
}
