/**
 * What the library sets up on a SQLite Sequelize instance: a busy timeout on every connection
 * (writers in other processes wait for the lock instead of failing at once), and write turns
 * inside the process (`write-turns.ts`). Sequelize 6's SQLite dialect opens its connections
 * itself, one per transaction for a file database, without running `afterConnect` hooks, so
 * the timeout is set where connections are acquired: `connectionManager.getConnection`.
 */
import type { Sequelize } from 'sequelize';
import { DatabaseBusyError, InvalidOptionError } from '../errors.js';
import { installTurns } from './write-turns.js';

export interface SqliteOptions {
  /**
   * Milliseconds a statement waits inside SQLite for a lock another process holds (the CLI's
   * `gc` or `migrate` next to the app, a second app process), before failing with
   * `DatabaseBusyError` (`E_DATABASE_BUSY`). Writers of this process take turns before their
   * BEGIN instead, and never wait here on each other.
   * @default 5000
   */
  busyTimeout?: number;
}

export const DEFAULT_BUSY_TIMEOUT = 5000;

/** The node-sqlite3 `Database` methods used here. */
interface SqliteConnection {
  configure(option: 'busyTimeout', value: number): void;
}

interface ConnectionManager {
  getConnection(options?: unknown): Promise<SqliteConnection>;
  connections?: Record<string, SqliteConnection>;
}

const settings = new WeakMap<Sequelize, { busyTimeout: number }>();
const configured = new WeakMap<SqliteConnection, number>();

function applyTimeout(connection: SqliteConnection, busyTimeout: number): void {
  if (configured.get(connection) === busyTimeout) return;
  configured.set(connection, busyTimeout);
  try {
    connection.configure('busyTimeout', busyTimeout);
  } catch {
    // Closed already (its transaction's connection died): it runs nothing more.
  }
}

/**
 * Sets up a SQLite Sequelize instance for concurrent writers: a busy timeout on every
 * connection, and in-process turns for IMMEDIATE transactions (the library's own writes,
 * {@link imageTransaction}, and the application's `{ type: 'IMMEDIATE' }` ones). The library
 * calls it with the defaults when models are set up (`imageAttachment`) and before it writes;
 * call it yourself to choose the busy timeout. Does nothing on other dialects.
 *
 * @example
 * const sequelize = new Sequelize({ dialect: 'sqlite', storage: 'var/app.sqlite' });
 * configureSqlite(sequelize, { busyTimeout: 10_000 });
 * await sequelize.query('PRAGMA journal_mode=WAL'); // readers never wait for writers
 */
export function configureSqlite(sequelize: Sequelize, options: SqliteOptions = {}): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object');
  }
  const busyTimeout = options.busyTimeout ?? DEFAULT_BUSY_TIMEOUT;
  if (!Number.isSafeInteger(busyTimeout) || busyTimeout < 0 || busyTimeout > 2 ** 31 - 1) {
    throw new InvalidOptionError(
      'busyTimeout',
      'must be a whole number of milliseconds, 0 or more',
    );
  }
  if (sequelize.getDialect() !== 'sqlite') return;
  const current = settings.get(sequelize);
  if (current !== undefined) {
    current.busyTimeout = busyTimeout;
  } else {
    settings.set(sequelize, { busyTimeout });
    wrapGetConnection(sequelize);
    installTurns(sequelize);
  }
  // Connections already open (the shared one of autocommit queries, or of `:memory:`).
  const manager = sequelize.connectionManager as unknown as ConnectionManager;
  for (const connection of Object.values(manager.connections ?? {})) {
    applyTimeout(connection, busyTimeout);
  }
}

/** {@link configureSqlite} with the defaults, unless it was called already. */
export function ensureSqliteSetUp(sequelize: Sequelize): void {
  if (sequelize.getDialect() === 'sqlite' && !settings.has(sequelize)) configureSqlite(sequelize);
}

function wrapGetConnection(sequelize: Sequelize): void {
  const manager = sequelize.connectionManager as unknown as ConnectionManager;
  const getConnection = manager.getConnection.bind(manager);
  manager.getConnection = async function getConnectionWithBusyTimeout(options?: unknown) {
    const connection = await getConnection(options);
    applyTimeout(connection, settings.get(sequelize)?.busyTimeout ?? DEFAULT_BUSY_TIMEOUT);
    return connection;
  };
}

/** Whether `error` is SQLite's SQLITE_BUSY (as Sequelize's `TimeoutError`, or raw). */
export function isBusyError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; depth++) {
    if ((e as { code?: unknown }).code === 'SQLITE_BUSY') return true;
    e = (e as { parent?: unknown }).parent ?? e.cause;
  }
  return false;
}

/** `error` as a {@link DatabaseBusyError} when it is SQLITE_BUSY; otherwise as it is. */
export function toBusyError(error: unknown): unknown {
  if (!isBusyError(error) || error instanceof DatabaseBusyError) return error;
  return new DatabaseBusyError(
    'The SQLite database stayed locked by another process for longer than the busy timeout; ' +
      'try again, or raise configureSqlite({ busyTimeout }).',
    { cause: error },
  );
}
