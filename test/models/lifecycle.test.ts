/**
 * "Files follow the database": every rule, on every database and every store, each test
 * ending with what the store really holds.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { storeContext } from '../../src/index.js';
import { jpeg, jpeg405x640 } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { defineModels, type Models } from './models.js';
import { FailingStore, captureWarnings } from './failing-store.js';
import { storeKinds, type StoreFixture } from './stores.js';

class Rollback extends Error {}

/** A promise and its resolver, to order two transactions without sleeping. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(databaseKinds())('files follow the database on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());

  describe.each(storeKinds())('with the $name store', (storeKind) => {
    let fixture: StoreFixture;
    let store: FailingStore;

    beforeEach(async () => {
      await db.reset();
      fixture = await storeKind.open();
      store = new FailingStore(fixture.store);
    });
    afterEach(() => fixture.cleanup());

    const keys = (...images: Parameters<StoreFixture['keyOf']>[0][]) =>
      images.map((image) => fixture.keyOf(image)).sort();

    test('without a transaction each call is atomic: row and file are both there', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      expect(await models.UserPicture.count()).toBe(1);
      expect(await fixture.list()).toEqual(keys(image));
    });

    test('a managed transaction that throws removes every file it wrote', async () => {
      const user = await models.User.create();
      let written: string[] = [];
      await expect(
        db.sequelize.transaction(async (transaction) => {
          await user.picture.fromBlob((await jpeg405x640()).bytes, { store, transaction });
          await user.picture.generateThumbnail({ width: 100 }, { store, transaction });
          written = await fixture.list();
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      expect(written).toHaveLength(2);
      expect(await user.picture.count()).toBe(0);
      expect(await fixture.list()).toEqual([]);
    });

    test('t.rollback() removes every file the transaction wrote', async () => {
      const user = await models.User.create();
      const transaction = await db.sequelize.transaction();
      const image = await user.picture.fromBlob((await jpeg405x640()).bytes, {
        store,
        transaction,
      });
      // Readable before the commit, from the store.
      expect(await image.makeBlob({ store })).toEqual((await jpeg405x640()).bytes);
      await transaction.rollback();
      expect(await user.picture.count()).toBe(0);
      expect(await fixture.list()).toEqual([]);
    });

    test('replacing with the same size and type, then rolling back, keeps the committed bytes', async () => {
      const user = await models.User.create();
      const old = await user.picture.fromBlob((await jpeg405x640(1)).bytes, { store });
      const thumbnail = await user.picture.generateThumbnail({ width: 100 }, { store });
      const transaction = await db.sequelize.transaction();
      const replacement = await user.picture.fromBlob((await jpeg405x640(2)).bytes, {
        store,
        transaction,
      });
      expect(fixture.keyOf(replacement)).toBe(fixture.keyOf(old));
      await transaction.rollback();
      const original = await user.picture.requireOriginal({ store });
      expect(await original.makeBlob({ store })).toEqual((await jpeg405x640(1)).bytes);
      expect(await user.picture.count()).toBe(2);
      // No staged copy is left behind either.
      expect(await fixture.list()).toEqual(keys(old, thumbnail));
    });

    test('replacing with the same size and type, then committing, keeps the new bytes', async () => {
      const user = await models.User.create();
      const old = await user.picture.fromBlob((await jpeg405x640(1)).bytes, { store });
      await user.picture.generateThumbnail({ width: 100 }, { store });
      await user.picture.generateThumbnail({ width: 50 }, { store });
      await db.sequelize.transaction(async (transaction) => {
        await user.picture.fromBlob((await jpeg405x640(2)).bytes, { store, transaction });
      });
      expect(await user.picture.makeBlob({ store })).toEqual((await jpeg405x640(2)).bytes);
      expect(await user.picture.count()).toBe(1);
      expect(await fixture.list()).toEqual(keys(old));
    });

    test('replacing with another size removes the old set at commit, keeps it on rollback', async () => {
      const user = await models.User.create();
      const old = await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      const thumbnail = await user.picture.generateThumbnail({ height: 320 }, { store });
      await expect(
        db.sequelize.transaction(async (transaction) => {
          await user.picture.fromBlob((await jpeg(30, 30)).bytes, { store, transaction });
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      expect(await fixture.list()).toEqual(keys(old, thumbnail));
      const replacement = await user.picture.fromBlob((await jpeg(30, 30)).bytes, { store });
      expect(await user.picture.count()).toBe(1);
      expect(await fixture.list()).toEqual(keys(replacement));
    });

    test('image.destroy() removes the file after the commit, not before', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      let during: string[] = [];
      await db.sequelize.transaction(async (transaction) => {
        await image.destroy({ transaction, imageStore: store });
        during = await fixture.list();
      });
      expect(during).toEqual(keys(image));
      expect(await fixture.list()).toEqual([]);
    });

    test('image.destroy() rolled back keeps the file', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      const transaction = await db.sequelize.transaction();
      await image.destroy({ transaction, imageStore: store });
      await transaction.rollback();
      expect(await user.picture.original()).not.toBeNull();
      expect(await fixture.list()).toEqual(keys(image));
    });

    test('image.destroy() without a transaction removes the file right away', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      // The store the image was loaded with is remembered.
      await image.destroy();
      expect(await fixture.list()).toEqual([]);
    });

    test('image.destroy() outside a store context, with no remembered store, fails before deleting', async () => {
      const user = await models.User.create();
      await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      const loaded = await models.UserPicture.findOne();
      await expect(loaded!.destroy()).rejects.toMatchObject({ code: 'E_NO_STORE_CONTEXT' });
      expect(await models.UserPicture.count()).toBe(1);
      expect(await fixture.list()).toHaveLength(1);
    });

    test('parent.destroy() cascades to the images; their files go at commit', async () => {
      const user = await models.User.create();
      const keep = await models.User.create();
      await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      await user.picture.generateThumbnail({ ratio: 0.5 }, { store });
      const kept = await keep.picture.fromBlob((await jpeg(20, 20)).bytes, { store });
      await storeContext(store, async () => {
        const transaction = await db.sequelize.transaction();
        await user.destroy({ transaction });
        await transaction.rollback();
        expect(await fixture.list()).toHaveLength(3);
        await db.sequelize.transaction((t) => user.destroy({ transaction: t }));
      });
      expect(await models.UserPicture.count()).toBe(1);
      expect(await fixture.list()).toEqual(keys(kept));
    });

    test('bulk Model.destroy({ where }) removes the files at commit', async () => {
      const a = await models.User.create();
      const b = await models.User.create();
      await a.picture.fromBlob((await jpeg405x640()).bytes, { store });
      await a.picture.generateThumbnail({ width: 10 }, { store });
      const kept = await b.picture.fromBlob((await jpeg(20, 20)).bytes, { store });
      await storeContext(store, () =>
        db.sequelize.transaction((transaction) =>
          models.UserPicture.destroy({ where: { userId: a.id }, transaction }),
        ),
      );
      expect(await models.UserPicture.count()).toBe(1);
      expect(await fixture.list()).toEqual(keys(kept));
    });

    test('bulk Parent.destroy({ where }) removes the images and their files at commit', async () => {
      const a = await models.User.create({ name: 'gone' });
      const b = await models.User.create({ name: 'kept' });
      await a.picture.fromBlob((await jpeg405x640()).bytes, { store });
      await a.picture.generateThumbnail({ width: 10 }, { store });
      const kept = await b.picture.fromBlob((await jpeg(20, 20)).bytes, { store });
      await expect(
        db.sequelize.transaction(async (transaction) => {
          await models.User.destroy({
            where: { name: 'gone' },
            transaction,
            imageStore: store,
          } as object);
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      expect(await fixture.list()).toHaveLength(3);
      await db.sequelize.transaction((transaction) =>
        models.User.destroy({ where: { name: 'gone' }, transaction, imageStore: store } as object),
      );
      expect(await models.UserPicture.count()).toBe(1);
      expect(await fixture.list()).toEqual(keys(kept));
    });

    test('deleting and re-adding a key in one transaction keeps the new file at commit', async () => {
      const user = await models.User.create();
      const first = await user.picture.fromBlob((await jpeg(40, 40, 10)).bytes, { store });
      await db.sequelize.transaction(async (transaction) => {
        await first.destroy({ transaction, imageStore: store });
        await user.picture.fromBlob((await jpeg(40, 40, 250)).bytes, { store, transaction });
      });
      expect(await user.picture.makeBlob({ store })).toEqual((await jpeg(40, 40, 250)).bytes);
      expect(await fixture.list()).toEqual(keys(first));
    });

    test('a file written and deleted in one transaction is gone at commit', async () => {
      const user = await models.User.create();
      await db.sequelize.transaction(async (transaction) => {
        await user.picture.fromBlob((await jpeg(40, 40)).bytes, { store, transaction });
        await user.picture.fromBlob((await jpeg(30, 30)).bytes, { store, transaction });
      });
      const original = await user.picture.requireOriginal();
      expect(await fixture.list()).toEqual(keys(original));
    });

    test('a savepoint rolled back undoes only its own files', async () => {
      const user = await models.User.create();
      const other = await models.User.create();
      await db.sequelize.transaction(async (transaction) => {
        await user.picture.fromBlob((await jpeg(40, 40)).bytes, { store, transaction });
        await expect(
          db.sequelize.transaction({ transaction }, async (savepoint) => {
            await other.picture.fromBlob((await jpeg(30, 30)).bytes, {
              store,
              transaction: savepoint,
            });
            throw new Rollback();
          }),
        ).rejects.toBeInstanceOf(Rollback);
      });
      expect(await other.picture.count()).toBe(0);
      const original = await user.picture.requireOriginal();
      expect(await fixture.list()).toEqual(keys(original));
    });

    test('a store failing during a write fails the call and rolls the row back', async () => {
      const user = await models.User.create();
      store.failPuts = true;
      await expect(
        user.picture.fromBlob((await jpeg405x640()).bytes, { store }),
      ).rejects.toMatchObject({ code: 'E_STORE' });
      expect(await user.picture.count()).toBe(0);
      // Inside a caller's transaction only the call is undone; the transaction goes on.
      await db.sequelize.transaction(async (transaction) => {
        await expect(
          user.picture.fromBlob((await jpeg405x640()).bytes, { store, transaction }),
        ).rejects.toMatchObject({ code: 'E_STORE' });
        store.failPuts = false;
        await user.picture.fromBlob((await jpeg(20, 20)).bytes, { store, transaction });
      });
      const original = await user.picture.requireOriginal();
      expect(original.size).toEqual([20, 20]);
      expect(await fixture.list()).toEqual(keys(original));
    });

    test('a store failing during a post-commit delete is reported, never thrown', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      store.failDeletes = true;
      const warnings = captureWarnings();
      try {
        await db.sequelize.transaction((transaction) =>
          image.destroy({ transaction, imageStore: store }),
        );
        // process.emitWarning() reports on a later tick.
        expect(await warnings.first).toMatchObject({ code: 'E_ORPHAN_FILE' });
      } finally {
        warnings.stop();
      }
      expect(await models.UserPicture.count()).toBe(0);
      expect(await fixture.list()).toEqual(keys(image)); // the orphan, reported
    });

    test('two concurrent transactions on different parents keep their own files', async () => {
      const [a, b] = [await models.User.create(), await models.User.create()];
      const t1 = await db.sequelize.transaction();
      const imageA = await a.picture.fromBlob((await jpeg(40, 40)).bytes, {
        store,
        transaction: t1,
      });
      const written = signal();
      const release = signal();
      const second = db.sequelize.transaction(async (t2) => {
        await b.picture.fromBlob((await jpeg(30, 30)).bytes, { store, transaction: t2 });
        written.resolve();
        await release.promise;
        throw new Rollback();
      });
      // PostgreSQL lets both write at once; SQLite lets the second writer in after the commit.
      if (db.dialect === 'postgres') await written.promise;
      await t1.commit();
      await written.promise;
      expect(await fixture.list()).toHaveLength(2);
      release.resolve();
      await expect(second).rejects.toBeInstanceOf(Rollback);
      expect(await b.picture.count()).toBe(0);
      expect(await fixture.list()).toEqual(keys(imageA));
    });

    test('two concurrent transactions on the same parent take turns', async () => {
      const user = await models.User.create();
      const first = await user.picture.fromBlob((await jpeg(50, 50)).bytes, { store });
      const t1 = await db.sequelize.transaction();
      const mine = await user.picture.fromBlob((await jpeg(40, 40)).bytes, {
        store,
        transaction: t1,
      });
      const second = db.sequelize.transaction(async (t2) => {
        // Waits for t1, then sees t1's committed set and replaces it.
        await user.picture.fromBlob((await jpeg(30, 30)).bytes, { store, transaction: t2 });
        throw new Rollback();
      });
      // Handled now: t1's commit waits for the key locks, so the second may end first.
      const secondRolledBack = expect(second).rejects.toBeInstanceOf(Rollback);
      await t1.commit();
      await secondRolledBack;
      const original = await user.picture.requireOriginal();
      expect(original.size).toEqual([40, 40]);
      expect(await user.picture.count()).toBe(1);
      expect(await fixture.list()).toEqual(keys(mine));
      expect(keys(first)).not.toEqual(keys(mine));
    });

    test('two concurrent thumbnail requests of one size make one thumbnail', async () => {
      const user = await models.User.create();
      const original = await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
      const [x, y] = await Promise.all([
        user.picture.generateThumbnail({ width: 100 }, { store }),
        user.picture.generateThumbnail({ width: 100 }, { store }),
      ]);
      expect(x.size).toEqual(y.size);
      expect(await user.picture.count()).toBe(2);
      expect(await fixture.list()).toEqual(keys(original, x));
    });
  });
});
