/**
 * recoverStagedFiles on its own: staged files are found through the store's listing (the
 * file-system store walks only the staged folders, S3 lists their prefix), put in place when
 * their row is committed, removed past the grace period when it is not, and kept when young.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  DEFAULT_STAGED_GRACE_PERIOD,
  recoverStagedFiles,
  type ImageKey,
  type ListedFile,
  type Store,
} from '../../src/index.js';
import { jpeg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { defineModels, type Models } from './models.js';
import { storeKinds, type StoreFixture } from './stores.js';

const STAGED = '.imageattach-staged~';
const HOUR = 60 * 60 * 1000;

async function readKey(store: Store, key: ImageKey): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const { objectType, objectId, width, height, mimetype } = key;
  for await (const chunk of await store.getFile(objectType, objectId, width, height, mimetype)) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The key of an image (its getters are not own properties: no spreading). */
function keyOf(image: ImageKey): ImageKey {
  const { objectType, objectId, width, height, mimetype } = image;
  return { objectType, objectId, width, height, mimetype };
}

/** Puts bytes where a transaction would have staged them for `key` and a row of `createdAt`. */
async function stage(store: Store, key: ImageKey, createdAt: number, bytes: Buffer) {
  const staged = { ...keyOf(key), objectType: `${STAGED}${key.objectType}~${createdAt}` };
  const { objectType, objectId, width, height, mimetype } = staged;
  await store.putFile(bytes, objectType, objectId, width, height, mimetype, false);
  return staged;
}

describe.each(databaseKinds())('recoverStagedFiles on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());

  describe.each(storeKinds())('with the $name store', (storeKind) => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      await db.reset();
      fixture = await storeKind.open();
      store = fixture.store;
    });
    afterEach(() => fixture.cleanup());

    const name = (key: ImageKey) =>
      fixture.keyOf({ ...keyOf(key), objectId: BigInt(key.objectId) });

    test('committed rows get their staged bytes; stale staged files go, young ones stay', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg(40, 40, 10)).bytes, { store });
      const post = await models.Post.create();
      const photo = await post.photos
        .getImageSet({ orderIndex: 1 })
        .fromBlob((await jpeg(30, 20, 10)).bytes, { store });
      const bytes = (await jpeg(40, 40, 250)).bytes;
      const photoBytes = (await jpeg(30, 20, 250)).bytes;
      const now = Date.now();
      // A crash after COMMIT, before the copy: staged under the committed row's createdAt.
      await stage(store, image, image.createdAt.getTime(), bytes);
      // The same for an objectId computed from two key columns.
      await stage(store, photo, photo.createdAt.getTime(), photoBytes);
      // Never committed: one from two hours ago, one from a transaction still running.
      const { objectType, objectId, mimetype } = image;
      const other = (width: number): ImageKey => ({
        objectType,
        objectId,
        width,
        height: width,
        mimetype,
      });
      const stale = await stage(store, other(10), now - 2 * HOUR, bytes);
      const young = await stage(store, other(20), now, bytes);
      // Its row was replaced since (another createdAt): never to be copied over the key.
      const replaced = await stage(store, image, image.createdAt.getTime() - 2 * HOUR, bytes);

      const report = await recoverStagedFiles({ sequelize: db.sequelize, store });
      expect(report.found).toBe(5);
      expect(report.recovered.map(name).sort()).toEqual([name(image), name(photo)].sort());
      expect(report.removed.map(name).sort()).toEqual([name(stale), name(replaced)].sort());
      expect(report.kept.map(name)).toEqual([name(young)]);
      expect(report.failures).toEqual([]);
      expect(await readKey(store, image)).toEqual(bytes);
      expect(await readKey(store, photo)).toEqual(photoBytes);
      expect(await fixture.list()).toEqual([name(image), name(photo), name(young)].sort());
    });

    test('the listing of staged files leaves every other folder or prefix alone', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg(40, 40)).bytes, { store });
      const staged = await stage(store, image, Date.now(), (await jpeg(40, 40)).bytes);
      const listed: ListedFile[] = [];
      for await (const file of store.listFiles!({ objectTypePrefix: STAGED })) listed.push(file);
      expect(listed.map((file) => name(file.key))).toEqual([name(staged)]);
      expect(listed[0]).toMatchObject({ temporary: false, key: { objectType: staged.objectType } });
      const all: ListedFile[] = [];
      for await (const file of store.listFiles!()) all.push(file);
      expect(all.map((file) => name(file.key)).sort()).toEqual([name(image), name(staged)].sort());
      expect(await fixture.list()).toEqual([name(image), name(staged)].sort());
    });

    test('a store with nothing staged is a no-op', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg(40, 40)).bytes, { store });
      const report = await recoverStagedFiles({ sequelize: db.sequelize, store, gracePeriod: 0 });
      expect(report).toEqual({ found: 0, recovered: [], removed: [], kept: [], failures: [] });
      expect(await fixture.list()).toEqual([name(image)]);
    });
  });

  test('options are checked, naming the option', async () => {
    const fixture = await storeKinds()[0]!.open();
    try {
      const { store } = fixture;
      const sequelize = db.sequelize;
      await expect(recoverStagedFiles({ sequelize: {} as never, store })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        option: 'sequelize',
      });
      const unlisted = Object.create(store) as Store;
      (unlisted as { listFiles?: unknown }).listFiles = undefined;
      await expect(recoverStagedFiles({ sequelize, store: unlisted })).rejects.toMatchObject({
        option: 'store',
      });
      await expect(recoverStagedFiles({ sequelize, store, gracePeriod: -1 })).rejects.toMatchObject(
        { option: 'gracePeriod' },
      );
      expect(DEFAULT_STAGED_GRACE_PERIOD).toBe(HOUR);
      expect(await fixture.list()).toEqual([]);
    } finally {
      await fixture.cleanup();
    }
  });
});
