/**
 * The key locks of `file-locks.ts` on the databases that take them (PostgreSQL with
 * DATABASE_URL, MySQL/MariaDB with MYSQL_URL): a second writer of a key waits until the first
 * commits or rolls back, writers of other keys do not, and on MySQL/MariaDB concurrent
 * replacements keep the files with the rows under REPEATABLE READ and READ COMMITTED alike.
 * A waiter is seen waiting by the server's own tables, never by timing.
 */
import { Sequelize, Transaction } from 'sequelize';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FileSystemStore } from '../../src/index.js';
import { KEY_LOCK_TABLE, lockIdOf, lockKeyForWrite } from '../../src/models/file-locks.js';
import type { ImageKey } from '../../src/stores/keys.js';
import { jpeg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { checkInvariants } from '../support/invariants.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels } from './models.js';

const key: ImageKey = {
  objectType: 'user-picture',
  objectId: 2n ** 60n + 1n, // beyond 2^53: the id travels as text
  width: 40,
  height: 30,
  mimetype: 'image/jpeg',
};
const otherKey: ImageKey = { ...key, width: 41 };

test('a lock id is a signed 64-bit decimal, one per stored name', () => {
  const id = BigInt(lockIdOf(key));
  expect(id).toBeGreaterThanOrEqual(-(2n ** 63n));
  expect(id).toBeLessThan(2n ** 63n);
  expect(lockIdOf({ ...key })).toBe(lockIdOf(key));
  expect(lockIdOf(otherKey)).not.toBe(lockIdOf(key));
  // image/bmp and image/ms-bmp share an extension, so a file name, so a lock.
  expect(lockIdOf({ ...key, mimetype: 'image/bmp' })).toBe(
    lockIdOf({ ...key, mimetype: 'image/ms-bmp' }),
  );
});

describe.each(databaseKinds().filter((kind) => kind.name !== 'sqlite'))(
  'key locks on $name',
  (kind) => {
    let db: TestDatabase;

    beforeAll(async () => {
      db = await kind.open();
      defineModels(db.sequelize);
    });
    afterAll(() => db.close());
    beforeEach(() => db.reset());

    /** Resolves once some session of the server waits for a lock. */
    async function someoneWaits(): Promise<void> {
      const sql =
        kind.name === 'mysql'
          ? "SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'"
          : 'SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted';
      for (let i = 0; i < 400; i += 1) {
        const [rows] = await db.sequelize.query(sql);
        if (Number((rows as { n: number | string }[])[0]?.n) > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error('no session waited for a lock within 10 s');
    }

    for (const end of ['commit', 'rollback'] as const) {
      test(`a second writer of a key waits for the first's ${end}`, async () => {
        const first = await db.sequelize.transaction();
        await lockKeyForWrite(db.sequelize, first, key);
        const second = await db.sequelize.transaction();
        const events: string[] = [];
        const waiting = lockKeyForWrite(db.sequelize, second, key).then(() =>
          events.push('granted'),
        );
        await someoneWaits();
        events.push(end);
        await first[end]();
        await waiting;
        await second.commit();
        expect(events).toEqual([end, 'granted']);
      });
    }

    test('writers of other keys do not wait', async () => {
      const first = await db.sequelize.transaction();
      try {
        await lockKeyForWrite(db.sequelize, first, key);
        await db.sequelize.transaction((second) => lockKeyForWrite(db.sequelize, second, otherKey));
      } finally {
        await first.commit();
      }
    });

    if (kind.name === 'mysql') {
      test('without the key-lock table a write fails naming the table', async () => {
        await db.sequelize.query(`DROP TABLE ${KEY_LOCK_TABLE}`);
        await expect(
          db.sequelize.transaction((transaction) =>
            lockKeyForWrite(db.sequelize, transaction, key),
          ),
        ).rejects.toMatchObject({ code: 'E_JOURNAL_TABLE_MISSING', table: KEY_LOCK_TABLE });
      });
    }
  },
);

const mysqlUrl = process.env.MYSQL_URL;
const isolationLevels = mysqlUrl
  ? [Transaction.ISOLATION_LEVELS.REPEATABLE_READ, Transaction.ISOLATION_LEVELS.READ_COMMITTED]
  : [];

describe.each(isolationLevels)('MySQL/MariaDB under %s', (isolationLevel) => {
  let db: TestDatabase;
  let sequelize: Sequelize;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;

  beforeAll(async () => {
    db = await databaseKinds()
      .find((kind) => kind.name === 'mysql')!
      .open();
    // The same database, with every application transaction at this level.
    sequelize = new Sequelize(
      db.sequelize.config.database,
      db.sequelize.config.username,
      db.sequelize.config.password ?? undefined,
      {
        dialect: 'mysql',
        host: db.sequelize.config.host,
        port: Number(db.sequelize.config.port),
        logging: false,
        isolationLevel,
      },
    );
    dir = await makeTempDir('isolation');
  });
  afterAll(async () => {
    await sequelize.close();
    await db.close();
    await dir.remove();
  });

  test('20 concurrent replacements of one original and their thumbnails keep files and rows together', async () => {
    const models = defineModels(sequelize);
    await sequelize.sync({ force: true });
    const store = new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' });
    const user = await models.User.create();
    const samples = await Promise.all(Array.from({ length: 20 }, (_, i) => jpeg(40, 30, i)));
    const results = await Promise.allSettled(
      samples.map((sample) =>
        sequelize.transaction(async (transaction) => {
          // A read first: at REPEATABLE READ it fixes the transaction's snapshot before any
          // lock is waited for.
          await models.User.findByPk(user.id, { transaction });
          const image = await user.picture.fromBlob(sample.bytes, { store, transaction });
          await user.picture.generateThumbnail({ width: 20 }, { store, transaction });
          return image;
        }),
      ),
    );
    // Deadlocks InnoDB breaks are an application's to retry; what committed must be whole.
    const committed = results.filter((result) => result.status === 'fulfilled');
    expect(committed.length).toBeGreaterThan(0);
    const originals = await models.UserPicture.count({
      where: { userId: user.id, original: true },
    });
    expect(originals).toBe(1);
    const { problems } = await checkInvariants(store, sequelize, { orphans: 'any' });
    expect(problems).toEqual([]);
  });
});
