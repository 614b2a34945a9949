/**
 * SQLite write turns (`src/models/write-turns.ts`) on a SQLite file database without
 * Sequelize's `retry` option: writers wait in JavaScript, in arrival order, before their
 * `BEGIN IMMEDIATE`, and get their turn back however their transaction ends. PostgreSQL (with
 * DATABASE_URL) is left as it is.
 */
import { join } from 'node:path';
import { QueryTypes, Sequelize, Transaction } from 'sequelize';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { configureSqlite, FileSystemStore, imageTransaction } from '../../src/index.js';
import { DEFAULT_BUSY_TIMEOUT } from '../../src/models/sqlite-setup.js';
import { jpeg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { checkInvariants } from '../support/invariants.js';
import { holdWriteLock } from '../support/sqlite-lock.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from './models.js';

type Logged = { connection: string; sql: string };

/** Sequelize reads `options.logging` at every query; the typings do not declare it. */
const optionsOf = (sequelize: Sequelize) =>
  (sequelize as unknown as { options: { logging: ((message: string) => void) | false } }).options;

function recordQueries(sequelize: Sequelize): Logged[] {
  const log: Logged[] = [];
  optionsOf(sequelize).logging = (message: string) => {
    const match = /^Executing \(([^)]*)\): ([\s\S]*)$/.exec(message);
    if (match !== null) log.push({ connection: match[1]!, sql: match[2]! });
  };
  return log;
}

/** Every BEGIN comes after the COMMIT or ROLLBACK of the transaction before it. */
function expectOneWriterAtATime(log: Logged[]): void {
  let open: string | undefined;
  let begins = 0;
  for (const { connection, sql } of log) {
    if (/^BEGIN /.test(sql)) {
      expect(sql).toMatch(/^BEGIN IMMEDIATE/);
      expect(open).toBeUndefined();
      open = connection;
      begins += 1;
    } else if (/^(COMMIT|ROLLBACK);/.test(sql) && connection === open) {
      open = undefined;
    }
  }
  expect(begins).toBeGreaterThan(1);
}

const sqliteKind = databaseKinds().find((kind) => kind.name === 'sqlite')!;

describe('SQLite write turns', () => {
  let db: TestDatabase;
  let models: Models;
  let dir: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;

  beforeAll(async () => {
    db = await sqliteKind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.reset();
    dir = await makeTempDir('sqlite-turns');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' });
  });
  afterEach(async () => {
    optionsOf(db.sequelize).logging = false;
    configureSqlite(db.sequelize);
    await dir.remove();
  });

  const storagePath = () =>
    (db.sequelize as unknown as { options: { storage: string } }).options.storage;

  test('concurrent set methods wait before BEGIN IMMEDIATE, one writer at a time', async () => {
    const users = await Promise.all(Array.from({ length: 8 }, () => models.User.create()));
    const samples = await Promise.all(users.map((_, i) => jpeg(30 + i, 20, i * 20)));
    const log = recordQueries(db.sequelize);
    const images = await Promise.all(
      users.map((user, i) => user.picture.fromBlob(samples[i]!.bytes, { store })),
    );
    expect(images.map((image) => image.width)).toEqual(samples.map((_, i) => 30 + i));
    expectOneWriterAtATime(log);
    const { problems } = await checkInvariants(store, db.sequelize);
    expect(problems).toEqual([]);
  });

  test('turns are given in arrival order', async () => {
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        imageTransaction(db.sequelize, async (transaction) => {
          order.push(i);
          await models.User.create({}, { transaction });
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('a savepoint shares its root transaction turn', async () => {
    const user = await models.User.create();
    const { bytes } = await jpeg(40, 30);
    const image = await imageTransaction(db.sequelize, (outer) =>
      imageTransaction(db.sequelize, { transaction: outer }, (inner) =>
        user.picture.fromBlob(bytes, { store, transaction: inner }),
      ),
    );
    expect(image.width).toBe(40);
    expect(await user.picture.makeBlob({ store })).toEqual(bytes);
  });

  test('post-commit work inside commit() takes a turn after the COMMIT, with others waiting', async () => {
    const user = await models.User.create();
    const other = await models.User.create();
    await user.picture.fromBlob((await jpeg(40, 30, 1)).bytes, { store });
    const replacement = (await jpeg(40, 30, 2)).bytes;
    // Same size and type: staged, and copied over the old file by the post-commit settle,
    // which runs in its own IMMEDIATE transaction before the managed transaction resolves.
    const replaced = imageTransaction(db.sequelize, (transaction) =>
      user.picture.fromBlob(replacement, { store, transaction }),
    );
    const waiting = other.picture.fromBlob((await jpeg(20, 20)).bytes, { store });
    await Promise.all([replaced, waiting]);
    expect(await user.picture.makeBlob({ store })).toEqual(replacement);
    const { problems, state } = await checkInvariants(store, db.sequelize);
    expect(problems).toEqual([]);
    expect(state.orphans).toEqual([]);
  });

  test('after-commit hooks can write: the turn is handed on when the COMMIT statement is done', async () => {
    const user = await models.User.create();
    const { bytes } = await jpeg(20, 20);
    let width = 0;
    await imageTransaction(db.sequelize, async (transaction) => {
      await models.User.create({}, { transaction });
      transaction.afterCommit(async () => {
        width = (await user.picture.fromBlob(bytes, { store })).width;
      });
    });
    expect(width).toBe(20);
  });

  test('a transaction whose BEGIN fails gives its turn back (E_DATABASE_BUSY, 503)', async () => {
    configureSqlite(db.sequelize, { busyTimeout: 100 });
    const user = await models.User.create();
    const lock = await holdWriteLock(storagePath());
    try {
      const failed = user.picture.fromBlob((await jpeg(40, 30)).bytes, { store });
      await expect(failed).rejects.toMatchObject({ code: 'E_DATABASE_BUSY', status: 503 });
      await expect(imageTransaction(db.sequelize, () => Promise.resolve(1))).rejects.toMatchObject({
        code: 'E_DATABASE_BUSY',
      });
    } finally {
      await lock.release();
    }
    const { problems, state } = await checkInvariants(store, db.sequelize);
    expect(problems).toEqual([]);
    expect(state.files.size).toBe(0);
    // The turns were given back: the next writer goes straight in.
    const image = await user.picture.fromBlob((await jpeg(40, 30)).bytes, { store });
    expect(image.width).toBe(40);
  });

  test('a transaction whose connection closes gives its turn back', async () => {
    const holder = await imageTransaction(db.sequelize);
    let ran = false;
    const next = imageTransaction(db.sequelize, async (transaction) => {
      ran = true;
      return await models.User.create({}, { transaction });
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toBe(false);
    // As Sequelize does to a connection it gives up on.
    const { connection } = holder as unknown as { connection: object };
    const manager = db.sequelize.connectionManager as unknown as {
      releaseConnection(connection: object): void;
    };
    manager.releaseConnection(connection);
    const user = await next;
    expect(ran).toBe(true);
    expect(await models.User.findByPk(user.id)).not.toBeNull();
  });

  test('an application transaction through imageTransaction interleaves with library writes', async () => {
    const log = recordQueries(db.sequelize);
    const samples = await Promise.all(Array.from({ length: 12 }, (_, i) => jpeg(30 + i, 30, i)));
    const lone = await Promise.all(Array.from({ length: 6 }, () => models.User.create()));
    const results = await Promise.allSettled([
      // The application's own rows and images in one transaction each.
      ...samples.slice(0, 6).map((sample) =>
        imageTransaction(db.sequelize, async (transaction) => {
          const user = await models.User.create({ name: 'app' }, { transaction });
          await user.picture.fromBlob(sample.bytes, { store, transaction });
          return await user.picture.generateThumbnail({ width: 10 }, { store, transaction });
        }),
      ),
      // The library's transactions.
      ...samples.slice(6).map((sample, i) => lone[i]!.picture.fromBlob(sample.bytes, { store })),
    ]);
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expectOneWriterAtATime(log);
    const { problems, state } = await checkInvariants(store, db.sequelize);
    expect(problems).toEqual([]);
    expect(state.rows.size).toBe(18);
  });

  test("an application transaction of type 'IMMEDIATE' takes its turn too", async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => models.User.create()));
    const log = recordQueries(db.sequelize);
    const results = await Promise.allSettled(
      users.map(async (user, i) => {
        const { bytes } = await jpeg(20 + i, 20);
        return i % 2 === 0
          ? db.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, (transaction) =>
              user.picture.fromBlob(bytes, { store, transaction }),
            )
          : user.picture.fromBlob(bytes, { store });
      }),
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expectOneWriterAtATime(log);
  });

  test('a DEFERRED transaction that has run nothing yet waits for its turn', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => models.User.create()));
    const samples = await Promise.all(users.map((_, i) => jpeg(20 + i, 20)));
    const results = await Promise.allSettled(
      users.map((user, i) =>
        db.sequelize.transaction((transaction) =>
          user.picture.fromBlob(samples[i]!.bytes, { store, transaction }),
        ),
      ),
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    const { problems, state } = await checkInvariants(store, db.sequelize);
    expect(problems).toEqual([]);
    expect(state.rows.size).toBe(6);
  });

  test('a DEFERRED transaction that has read writes when no one else does', async () => {
    const user = await models.User.create();
    const { bytes } = await jpeg(20, 20);
    const image = await db.sequelize.transaction(async (transaction) => {
      await models.User.findAll({ transaction });
      return await user.picture.fromBlob(bytes, { store, transaction });
    });
    expect(image.width).toBe(20);
  });

  test('a DEFERRED transaction that has read fails at once while another writes (E_DEFERRED_TRANSACTION)', async () => {
    const user = await models.User.create();
    const { bytes } = await jpeg(20, 20);
    const writer = await imageTransaction(db.sequelize);
    try {
      const deferred = db.sequelize.transaction(async (transaction) => {
        await models.User.findAll({ transaction });
        return await user.picture.fromBlob(bytes, { store, transaction });
      });
      await expect(deferred).rejects.toMatchObject({ code: 'E_DEFERRED_TRANSACTION' });
    } finally {
      await writer.commit();
    }
    const { state } = await checkInvariants(store, db.sequelize);
    expect(state.rows.size).toBe(0);
    expect(state.files.size).toBe(0);
  });

  test('every connection gets the busy timeout; the option is validated', async () => {
    const timeoutOf = async () =>
      imageTransaction(db.sequelize, (transaction) =>
        db.sequelize.query<{ timeout: number }>('PRAGMA busy_timeout', {
          transaction,
          type: QueryTypes.SELECT,
        }),
      );
    expect(await timeoutOf()).toEqual([{ timeout: DEFAULT_BUSY_TIMEOUT }]);
    configureSqlite(db.sequelize, { busyTimeout: 1234 });
    expect(await timeoutOf()).toEqual([{ timeout: 1234 }]);
    for (const busyTimeout of [-1, 1.5, Number.NaN, '10' as unknown as number]) {
      expect(() => configureSqlite(db.sequelize, { busyTimeout })).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'busyTimeout' }),
      );
    }
  });
});

describe("SQLite with transactionType: 'IMMEDIATE'", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let sequelize: Sequelize;
  let models: Models;

  beforeAll(async () => {
    dir = await makeTempDir('sqlite-immediate');
    sequelize = new Sequelize({
      dialect: 'sqlite',
      storage: join(dir.path, 'db.sqlite'),
      logging: false,
      transactionType: Transaction.TYPES.IMMEDIATE,
    });
    models = defineModels(sequelize);
    await sequelize.sync();
  });
  afterAll(async () => {
    await sequelize.close();
    await dir.remove();
  });

  test('plain sequelize.transaction() calls take turns', async () => {
    const store = new FileSystemStore({ path: join(dir.path, 'images'), baseUrl: 'http://x/' });
    const log = recordQueries(sequelize);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, async (_, i) => {
        const { bytes } = await jpeg(20 + i, 20);
        return sequelize.transaction(async (transaction) => {
          const user = await models.User.create({}, { transaction });
          await models.User.findAll({ transaction });
          return await user.picture.fromBlob(bytes, { store, transaction });
        });
      }),
    );
    optionsOf(sequelize).logging = false;
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expectOneWriterAtATime(log);
  });
});

const postgresKinds = databaseKinds().filter((kind) => kind.name === 'postgres');

describe.each(postgresKinds)('$name', (kind) => {
  test('takes no turns: sequelize.transaction is left as it is', async () => {
    const db = await kind.open();
    try {
      const own = Object.getOwnPropertyDescriptor(db.sequelize, 'transaction');
      const models = defineModels(db.sequelize);
      configureSqlite(db.sequelize, { busyTimeout: 10 });
      expect(Object.getOwnPropertyDescriptor(db.sequelize, 'transaction')).toBe(own);
      await db.reset();
      const users = await Promise.all([models.User.create(), models.User.create()]);
      const made = await imageTransaction(db.sequelize, async (transaction) => {
        const { options } = transaction as unknown as { options: { type?: string } };
        expect(options.type).not.toBe(Transaction.TYPES.IMMEDIATE);
        return await models.User.count({ transaction });
      });
      expect(made).toBe(users.length);
    } finally {
      await db.close();
    }
  });
});
