/**
 * The same-second test's child process: replaces one user's picture twice within one second
 * (same size and type, so both writes are staged), each in a transaction of its own, and kills
 * itself with SIGKILL at the chosen point of the second replacement. It logs to SS_LOG:
 *
 * - `T <ms>`: the `createdAt` the library gave a replacement;
 * - `P <sha256>`: the COMMIT of a replacement is about to be sent (it may commit from now on);
 * - `C <sha256>`: that COMMIT answered: those bytes are committed.
 *
 * Environment: SS_KILL (`before-commit`, `after-commit`, `after-move`, `before-journal-delete`,
 * `after-return`), SS_USER, SS_STORE (folder), SS_LOG (file), and SS_SQLITE (file) or
 * SS_PG_URL + SS_PG_SCHEMA, or SS_MYSQL_URL.
 */
import { appendFileSync } from 'node:fs';
import { Sequelize, type Transaction } from 'sequelize';
import { FileSystemStore, Store } from '../../src/index.js';
import { STAGED_PREFIX } from '../../src/models/staged-files.js';
import { stagedJournalModel } from '../../src/models/staged-journal.js';
import { jpeg } from '../fixtures/samples.js';
import { defineModels } from '../models/models.js';
import { sha256 } from '../support/invariants.js';

const env = (name: string) => process.env[name] ?? '';
const log = (line: string) => appendFileSync(env('SS_LOG'), `${line}\n`);
const kill = env('SS_KILL');
const die = (point: string) => {
  if (point === kill) process.kill(process.pid, 'SIGKILL');
};

function openDatabase(): Sequelize {
  if (env('SS_SQLITE') !== '') {
    return new Sequelize({
      dialect: 'sqlite',
      storage: env('SS_SQLITE'),
      logging: false,
      retry: { max: 50, match: [/SQLITE_BUSY/] },
    });
  }
  if (env('SS_MYSQL_URL') !== '') {
    return new Sequelize(env('SS_MYSQL_URL'), { logging: false, pool: { max: 3 } });
  }
  return new Sequelize(env('SS_PG_URL'), {
    logging: false,
    dialectOptions: {
      options: `-c search_path=${env('SS_PG_SCHEMA')}`,
      // The parent waits for the server sessions of this name to end.
      application_name: env('SS_PG_SCHEMA'),
    },
  });
}

/** The real store, with a hook before each delete. */
class DyingStore extends Store {
  beforeDelete: (objectType: string) => void = () => {};
  constructor(readonly inner: Store) {
    super();
  }
  override putFile(...args: Parameters<Store['putFile']>) {
    return this.inner.putFile(...args);
  }
  override getFile(...key: Parameters<Store['getFile']>) {
    return this.inner.getFile(...key);
  }
  override getUrl(...key: Parameters<Store['getUrl']>) {
    return this.inner.getUrl(...key);
  }
  override async deleteFile(...key: Parameters<Store['deleteFile']>) {
    this.beforeDelete(key[0]);
    await this.inner.deleteFile(...key);
  }
}

async function main(): Promise<void> {
  const sequelize = openDatabase();
  const models = defineModels(sequelize);
  /** The bytes each replacement's transaction writes, by root transaction. */
  const pending = new Map<Transaction, string>();
  let second = false;
  let committed = false;
  // Around the COMMIT itself (a query hook does not see its SQL before it runs).
  const queryInterface = sequelize.getQueryInterface() as unknown as {
    commitTransaction(transaction: Transaction, options: object): Promise<unknown>;
  };
  const commitTransaction = queryInterface.commitTransaction.bind(queryInterface);
  queryInterface.commitTransaction = async (transaction, options) => {
    const sha = pending.get(transaction);
    if (sha === undefined) return commitTransaction(transaction, options);
    if (second) die('before-commit');
    log(`P ${sha}`);
    const result = await commitTransaction(transaction, options);
    pending.delete(transaction);
    log(`C ${sha}`);
    if (second) {
      committed = true;
      die('after-commit');
    }
    return result;
  };
  // The post-commit step deletes the journal row last (see staged-files.ts).
  stagedJournalModel(sequelize).addHook('beforeBulkDestroy', () => {
    if (committed) die('before-journal-delete');
  });
  const store = new DyingStore(
    new FileSystemStore({ path: env('SS_STORE'), baseUrl: 'http://x/' }),
  );
  // Dies once the second replacement's bytes are in place, before the staged copy goes.
  store.beforeDelete = (objectType) => {
    if (committed && objectType.startsWith(STAGED_PREFIX)) die('after-move');
  };

  const user = await models.User.findByPk(Number(env('SS_USER')), { rejectOnEmpty: true });
  const first = (await jpeg(40, 40, 120)).bytes;
  const next = (await jpeg(40, 40, 240)).bytes;
  const replace = (bytes: Buffer, timed = true) =>
    sequelize.transaction(async (transaction) => {
      pending.set(transaction, sha256(bytes));
      const image = await user.picture.fromBlob(bytes, { store, transaction });
      if (timed) log(`T ${image.createdAt.getTime()}`);
    });
  // A first replacement warms every path (connections, sharp, the journal's probe), and the
  // two that count start with a second, so that both fall within it.
  await replace((await jpeg(40, 40, 60)).bytes, false);
  await new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));
  await replace(first);
  second = true;
  await replace(next);
  die('after-return');
  process.stderr.write(`the kill point ${kill} was never reached\n`);
  process.exit(3);
}

main().catch((error: unknown) => {
  process.stderr.write(`worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(2);
});
