/**
 * Replacing an image by one of the same size and type: the new bytes are staged and take the
 * key only after the commit, so a rollback, a crash before the commit or a reader in another
 * transaction never sees a committed key with uncommitted bytes. Each test ends with what the
 * store really holds.
 */
import sharp from 'sharp';
import { QueryTypes, Transaction } from 'sequelize';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  createImageAttachTables,
  JournalTableMissingError,
  recoverStagedFiles,
  type ImageKey,
  type Store,
} from '../../src/index.js';
import { STAGED_JOURNAL_TABLE } from '../../src/models/staged-journal.js';
import { jpeg405x640 } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { FailingStore, captureWarnings } from './failing-store.js';
import { defineModels, type Models } from './models.js';
import { storeKinds, type StoreFixture } from './stores.js';

const STAGED = '.imageattach-staged~';
const OLD = 10;
const NEW = 250;

type Key = Parameters<StoreFixture['keyOf']>[0];

const oldBytes = async () => (await jpeg405x640(OLD)).bytes;
const newBytes = async () => (await jpeg405x640(NEW)).bytes;

/** The bytes the store holds under a key, read from the store itself. */
async function readKey(store: Store, key: Key): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const { objectType, objectId, width, height, mimetype } = key;
  for await (const chunk of await store.getFile(objectType, objectId, width, height, mimetype)) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The mean red of an image: the originals differ only there (10 against 250). */
async function red(bytes: Buffer): Promise<number> {
  const stats = await sharp(bytes).stats();
  return stats.channels[0]!.mean;
}

describe.each(databaseKinds())('same-key replacements on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());

  test('without the journal table a replacement fails as a whole, naming the call; writes that stage nothing work', async () => {
    // An application set up before the journal: its own tables, not the library's.
    const old = await kind.open();
    const fixture = await storeKinds()[0]!.open();
    try {
      const { store } = fixture;
      const oldModels = defineModels(old.sequelize);
      await old.reset();
      await old.sequelize.getQueryInterface().dropTable(STAGED_JOURNAL_TABLE);
      const user = await oldModels.User.create();
      const committed = await user.picture.fromBlob(await oldBytes(), { store });
      await user.picture.generateThumbnail({ width: 100 }, { store });
      const before = await fixture.list();
      const error = await user.picture
        .fromBlob(await newBytes(), { store })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(JournalTableMissingError);
      expect(error).toMatchObject({ code: 'E_JOURNAL_TABLE_MISSING', table: STAGED_JOURNAL_TABLE });
      // Nothing changed: the old row and its bytes, no staged file.
      const original = await user.picture.requireOriginal({ store });
      expect(original.createdAt).toEqual(committed.createdAt);
      expect(await original.makeBlob({ store })).toEqual(await oldBytes());
      expect(await fixture.list()).toEqual(before);
      // The upgrade: one call, after which the same replacement goes through.
      await createImageAttachTables(old.sequelize);
      await user.picture.fromBlob(await newBytes(), { store });
      expect(await user.picture.makeBlob({ store })).toEqual(await newBytes());
    } finally {
      await fixture.cleanup();
      await old.close();
    }
  });

  describe.each(storeKinds())('with the $name store', (storeKind) => {
    let fixture: StoreFixture;
    let store: FailingStore;

    beforeEach(async () => {
      await db.reset();
      fixture = await storeKind.open();
      store = new FailingStore(fixture.store);
    });
    afterEach(() => fixture.cleanup());

    const keys = (...images: Key[]) => images.map((image) => fixture.keyOf(image)).sort();
    const keysOf = (list: ImageKey[]) =>
      list.map((key) => fixture.keyOf({ ...key, objectId: BigInt(key.objectId) })).sort();

    /** A user with a committed original and thumbnail, and a transaction replacing it. */
    async function replaceInTransaction() {
      const user = await models.User.create();
      const old = await user.picture.fromBlob(await oldBytes(), { store });
      const thumbnail = await user.picture.generateThumbnail({ width: 100 }, { store });
      const transaction = await db.sequelize.transaction();
      const replacement = await user.picture.fromBlob(await newBytes(), { store, transaction });
      expect(fixture.keyOf(replacement)).toBe(fixture.keyOf(old));
      return { user, old, thumbnail, transaction, replacement };
    }

    test('before the commit the key keeps the committed bytes; rollback removes the staged file', async () => {
      const { user, old, thumbnail, transaction } = await replaceInTransaction();
      expect(await readKey(fixture.store, old)).toEqual(await oldBytes());
      const staged = (await fixture.list()).filter((name) => name.startsWith(STAGED));
      expect(staged).toHaveLength(1);
      await transaction.rollback();
      expect(await user.picture.makeBlob({ store })).toEqual(await oldBytes());
      expect(await readKey(fixture.store, old)).toEqual(await oldBytes());
      expect(await fixture.list()).toEqual(keys(old, thumbnail));
    });

    test('after the commit the key holds the new bytes and no staged file is left', async () => {
      const { user, transaction, replacement } = await replaceInTransaction();
      await transaction.commit();
      expect(await readKey(fixture.store, replacement)).toEqual(await newBytes());
      expect(await user.picture.makeBlob({ store })).toEqual(await newBytes());
      expect(await fixture.list()).toEqual(keys(replacement));
    });

    test('another request reads the committed bytes until the commit; the transaction reads its own', async () => {
      const { user, transaction, replacement } = await replaceInTransaction();
      // Through the transaction: the new row and its staged bytes.
      expect(await replacement.makeBlob({ store, transaction })).toEqual(await newBytes());
      expect(await user.picture.makeBlob({ store, transaction })).toEqual(await newBytes());
      // Another request, in no transaction: the committed row and the bytes at its key.
      const committed = await user.picture.requireOriginal({ store });
      expect(committed.createdAt.getTime()).toBeLessThanOrEqual(replacement.createdAt.getTime());
      expect(await committed.makeBlob({ store })).toEqual(await oldBytes());
      expect(await replacement.makeBlob({ store, transaction: null })).toEqual(await oldBytes());
      await transaction.commit();
      expect(await user.picture.makeBlob({ store })).toEqual(await newBytes());
      expect(await fixture.list()).toEqual(keys(replacement));
    });

    test('thumbnails made after a same-size replacement come from the new bytes', async () => {
      const { user, thumbnail, transaction, replacement } = await replaceInTransaction();
      expect(await red(await readKey(fixture.store, thumbnail))).toBeLessThan(60);
      const single = await user.picture.generateThumbnail({ width: 100 }, { store, transaction });
      // Several at once decode the original once, through the same read.
      const [, other] = await user.picture.generateThumbnails([{ width: 100 }, { width: 50 }], {
        store,
        transaction,
      });
      expect(fixture.keyOf(single)).toBe(fixture.keyOf(thumbnail));
      expect(await red(await single.makeBlob({ store, transaction }))).toBeGreaterThan(200);
      expect(await red(await other!.makeBlob({ store, transaction }))).toBeGreaterThan(200);
      await transaction.commit();
      expect(await red(await readKey(fixture.store, single))).toBeGreaterThan(200);
      expect(await red(await readKey(fixture.store, other!))).toBeGreaterThan(200);
      expect(await fixture.list()).toEqual(keys(replacement, single, other!));
    });

    test('a crash before the commit (no hook runs) leaves the committed bytes at the key', async () => {
      const { user, old, thumbnail, transaction } = await replaceInTransaction();
      if (db.dialect === 'postgres') {
        // The process "dies": its backend is terminated from another connection.
        const [row] = await db.sequelize.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', {
          transaction,
          type: QueryTypes.SELECT,
        });
        await db.sequelize.query('SELECT pg_terminate_backend(:pid)', {
          replacements: { pid: row!.pid },
        });
      }
      // Sequelize's own rollback, without the library's hooks (on PostgreSQL it only returns
      // the dead connection).
      await Transaction.prototype.rollback.call(transaction).catch(() => undefined);
      const original = await user.picture.requireOriginal({ store });
      expect(original.createdAt).toEqual(old.createdAt);
      expect(await original.makeBlob({ store })).toEqual(await oldBytes());
      // The staged file is left, with no row: recovery removes it once past the grace period.
      const staged = (await fixture.list()).filter((name) => name.startsWith(STAGED));
      expect(staged).toHaveLength(1);
      const young = await recoverStagedFiles({ sequelize: db.sequelize, store });
      expect(young).toMatchObject({ found: 1, recovered: [], removed: [] });
      expect(young.kept).toHaveLength(1);
      expect(await fixture.list()).toEqual([...keys(old, thumbnail), ...staged].sort());
      const late = await recoverStagedFiles({ sequelize: db.sequelize, store, gracePeriod: 0 });
      expect(late).toMatchObject({ found: 1, recovered: [], kept: [], failures: [] });
      expect(late.removed).toHaveLength(1);
      expect(await readKey(fixture.store, old)).toEqual(await oldBytes());
      expect(await fixture.list()).toEqual(keys(old, thumbnail));
    });

    test('a crash between COMMIT and the copy is finished by recoverStagedFiles, twice harmlessly', async () => {
      const { user, old, thumbnail, transaction, replacement } = await replaceInTransaction();
      // Sequelize's own commit: the rows are committed, the library's post-commit step never runs.
      await Transaction.prototype.commit.call(transaction);
      const original = await user.picture.requireOriginal({ store });
      expect(original.createdAt).toEqual(replacement.createdAt);
      expect(await readKey(fixture.store, old)).toEqual(await oldBytes()); // the window
      // Two at once, as two processes starting together would.
      const reports = await Promise.all([
        recoverStagedFiles({ sequelize: db.sequelize, store }),
        recoverStagedFiles({ sequelize: db.sequelize, store }),
      ]);
      expect(keysOf(reports.flatMap((report) => report.recovered))).toEqual(keys(replacement));
      expect(await readKey(fixture.store, replacement)).toEqual(await newBytes());
      // The old thumbnail's file went with the crash's unfinished deletes: an orphan for gc.
      const listed = await fixture.list();
      expect(listed).toEqual(keys(replacement, thumbnail));
      const again = await recoverStagedFiles({ sequelize: db.sequelize, store, gracePeriod: 0 });
      expect(again).toMatchObject({ found: 0, recovered: [], removed: [], kept: [], failures: [] });
      expect(await readKey(fixture.store, replacement)).toEqual(await newBytes());
      expect(await fixture.list()).toEqual(listed);
    });

    test('a store failing the copy after the commit is reported; recovery puts the bytes in place', async () => {
      const { transaction, replacement, thumbnail } = await replaceInTransaction();
      store.failPuts = true;
      const warnings = captureWarnings();
      try {
        await transaction.commit(); // never throws into a committed request
        expect(await warnings.first).toMatchObject({ code: 'E_ORPHAN_FILE' });
      } finally {
        warnings.stop();
        store.failPuts = false;
      }
      expect(await readKey(fixture.store, replacement)).toEqual(await oldBytes());
      const report = await recoverStagedFiles({ sequelize: db.sequelize, store });
      expect(keysOf(report.recovered)).toEqual(keys(replacement));
      expect(await readKey(fixture.store, replacement)).toEqual(await newBytes());
      // The old thumbnail's delete ran in the same step and did not need the store's puts.
      expect(await fixture.list()).toEqual(keys(replacement));
      expect(keys(thumbnail)).not.toEqual(keys(replacement));
    });
  });
});
