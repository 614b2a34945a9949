/**
 * recoverStagedFiles on its own: staged files are found through the store's listing (the
 * file-system store walks only the staged folders, S3 lists their prefix), put in place when
 * their journal token is committed, removed past the grace period when it is not, and kept
 * when young; journal rows whose move had finished are removed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Sequelize } from 'sequelize';
import {
  createImageAttachTables,
  JournalTableMissingError,
  recoverStagedFiles,
  type ImageKey,
  type ListedFile,
  type Store,
} from '../../src/index.js';
import { DEFAULT_STAGED_GRACE_PERIOD } from '../../src/models/recover.js';
import { newToken, stagedJournalModel } from '../../src/models/staged-journal.js';
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

/** Puts bytes where a transaction would have staged them for `key` under `token`. */
async function stage(store: Store, key: ImageKey, token: string, bytes: Buffer) {
  const staged = { ...keyOf(key), objectType: `${STAGED}${key.objectType}~${token}` };
  const { objectType, objectId, width, height, mimetype } = staged;
  await store.putFile(bytes, objectType, objectId, width, height, mimetype, false);
  return staged;
}

/** What a committed staged write leaves in the journal. */
async function journal(sequelize: Sequelize, key: ImageKey, token: string) {
  const { objectType, objectId, width, height, mimetype } = key;
  await stagedJournalModel(sequelize).create({
    token,
    objectType,
    objectId: String(objectId),
    width,
    height,
    mimetype,
    original: true,
    createdAt: new Date(),
  });
}

async function journalTokens(sequelize: Sequelize): Promise<string[]> {
  const rows = await stagedJournalModel(sequelize).findAll({ order: [['token', 'ASC']] });
  return rows.map((row) => row.get('token') as string);
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

    test('committed tokens get their staged bytes in place; the others go once past the grace period', async () => {
      const sequelize = db.sequelize;
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg(40, 40, 10)).bytes, { store });
      const post = await models.Post.create();
      const photo = await post.photos
        .getImageSet({ orderIndex: 1 })
        .fromBlob((await jpeg(30, 20, 10)).bytes, { store });
      const bytes = (await jpeg(40, 40, 250)).bytes;
      const photoBytes = (await jpeg(30, 20, 250)).bytes;
      const committed = newToken();
      const photoToken = newToken();
      // A crash after COMMIT, before the copy: the staged file and its committed journal row.
      await stage(store, image, committed, bytes);
      await journal(sequelize, image, committed);
      // The same for an objectId computed from two key columns.
      await stage(store, photo, photoToken, photoBytes);
      await journal(sequelize, photo, photoToken);
      // Never committed (no journal row), of the same key: its bytes must never take the key.
      const uncommitted = await stage(store, image, newToken(), (await jpeg(40, 40, 120)).bytes);
      // A journal row whose staged file was moved already (a crash before the row's delete).
      const moved = newToken();
      await journal(sequelize, photo, moved);
      // A journal row whose staged file and key this store does not hold: another store's.
      const { objectType, objectId, mimetype } = image;
      const elsewhere = newToken();
      await journal(
        sequelize,
        { objectType, objectId, width: 10, height: 10, mimetype },
        elsewhere,
      );
      // Staged by a version before the journal: no token, left alone.
      const legacy = await stage(store, image, String(Date.now()), bytes);

      const report = await recoverStagedFiles({ sequelize, store });
      expect(report.found).toBe(3);
      expect(report.recovered.map(name).sort()).toEqual([name(image), name(photo)].sort());
      expect(report.removed).toEqual([]);
      // Young: kept even with no token (the grace period is a second guard).
      expect(report.kept.map(name)).toEqual([name(uncommitted)]);
      expect(report.failures).toEqual([]);
      expect(await readKey(store, image)).toEqual(bytes);
      expect(await readKey(store, photo)).toEqual(photoBytes);
      expect(await journalTokens(sequelize)).toEqual([elsewhere]);
      expect(await fixture.list()).toEqual(
        [name(image), name(photo), name(uncommitted), name(legacy)].sort(),
      );

      const late = await recoverStagedFiles({ sequelize, store, gracePeriod: 0 });
      expect(late).toMatchObject({ found: 1, recovered: [], kept: [], failures: [] });
      expect(late.removed.map(name)).toEqual([name(uncommitted)]);
      expect(await readKey(store, image)).toEqual(bytes);
      expect(await fixture.list()).toEqual([name(image), name(photo), name(legacy)].sort());
      expect(await journalTokens(sequelize)).toEqual([elsewhere]);
    });

    test('a missing journal table fails with the call that creates it; createImageAttachTables makes it, twice harmlessly', async () => {
      const sequelize = db.sequelize;
      await stagedJournalModel(sequelize).drop();
      const missing = await recoverStagedFiles({ sequelize, store }).catch(
        (error: unknown) => error,
      );
      expect(missing).toBeInstanceOf(JournalTableMissingError);
      expect(missing).toMatchObject({ code: 'E_JOURNAL_TABLE_MISSING', status: 500 });
      await createImageAttachTables(sequelize);
      await createImageAttachTables(sequelize);
      expect(await recoverStagedFiles({ sequelize, store })).toEqual({
        found: 0,
        recovered: [],
        removed: [],
        kept: [],
        failures: [],
      });
    });

    test('the listing of staged files leaves every other folder or prefix alone', async () => {
      const user = await models.User.create();
      const image = await user.picture.fromBlob((await jpeg(40, 40)).bytes, { store });
      const staged = await stage(store, image, newToken(), (await jpeg(40, 40)).bytes);
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
