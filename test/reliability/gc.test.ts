/**
 * `gc` and the file-system store's listing: orphans only past the grace period, missing rows
 * only when the store says so, store errors as "unknown", rows never touched.
 */
import { mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FileSystemStore, gc, type ListedFile } from '../../src/index.js';
import { fileIdentity } from '../../src/stores/keys.js';
import { STAGED_PREFIX } from '../../src/models/staged-files.js';
import { newToken, stagedJournalModel } from '../../src/models/staged-journal.js';
import { jpeg, jpeg405x640 } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { FaultStore } from '../support/fault-store.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';

const DAY = 24 * 60 * 60 * 1000;

async function listAll(store: { listFiles(): AsyncIterable<ListedFile> }) {
  const files: ListedFile[] = [];
  for await (const file of store.listFiles()) files.push(file);
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

/** Makes a stored file look `age` milliseconds old. */
async function age(root: string, name: string, ms: number) {
  const when = new Date(Date.now() - ms);
  await utimes(join(root, ...name.split('/')), when, when);
}

describe('FileSystemStore.listFiles', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;
  beforeEach(async () => {
    dir = await makeTempDir('gc-list');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' });
  });
  afterEach(() => dir.remove());

  test('is empty before the folder exists', async () => {
    const missing = new FileSystemStore({ path: join(dir.path, 'nope'), baseUrl: 'http://x/' });
    expect(await listAll(missing)).toEqual([]);
  });

  test('parses every stored name back into its key, with size and time', async () => {
    await store.putFile(Buffer.from('abc'), 'user', 1234, 100, 80, 'image/jpeg', false);
    await store.putFile(Buffer.from('de'), 'user', -5, 1, 2, 'image/png', true);
    await store.putFile(Buffer.from('f'), 'post-photo', 10n ** 20n, 3, 4, 'image/bmp', true);
    const files = await listAll(store);
    expect(files.map(({ key, name, size, temporary }) => ({ key, name, size, temporary }))).toEqual(
      [
        {
          key: {
            objectType: 'post-photo',
            objectId: 10n ** 20n,
            width: 3,
            height: 4,
            mimetype: 'image/bmp',
          },
          name: `post-photo/0/${10n ** 17n}/${10n ** 20n}.3x4.bmp`,
          size: 1,
          temporary: false,
        },
        {
          key: {
            objectType: 'user',
            objectId: 1234n,
            width: 100,
            height: 80,
            mimetype: 'image/jpeg',
          },
          name: 'user/234/1/1234.100x80.jpe',
          size: 3,
          temporary: false,
        },
        {
          key: { objectType: 'user', objectId: -5n, width: 1, height: 2, mimetype: 'image/png' },
          name: 'user/995/-1/-5.1x2.png',
          size: 2,
          temporary: false,
        },
      ],
    );
    expect(files.every((file) => file.modifiedAt instanceof Date)).toBe(true);
  });

  test('lists temporary files of interrupted writes as temporary, and removes them by name', async () => {
    await mkdir(join(dir.path, 'user/234/1'), { recursive: true });
    await writeFile(join(dir.path, 'user/234/1/.1234.100x80.jpe.0123456789abcdef.tmp'), 'half');
    const [file] = await listAll(store);
    expect(file).toMatchObject({
      temporary: true,
      name: 'user/234/1/.1234.100x80.jpe.0123456789abcdef.tmp',
      key: { objectType: 'user', objectId: 1234n, width: 100, height: 80 },
    });
    await store.deleteListedFile(file!);
    await store.deleteListedFile(file!); // already gone: no error
    expect(await listAll(store)).toEqual([]);
    await expect(store.deleteListedFile({ ...file!, name: '../../etc/passwd' })).rejects.toThrow(
      TypeError,
    );
  });

  test('leaves out names the layout would not write, and symlinks', async () => {
    const put = async (path: string) => {
      await mkdir(join(dir.path, path, '..'), { recursive: true });
      await writeFile(join(dir.path, path), 'x');
    };
    await put('user/234/1/01234.100x80.jpe'); // leading zero
    await put('user/235/1/1234.100x80.jpe'); // wrong folder
    await put('user/234/1/1234.100x80.exe'); // unknown extension
    await put('user/234/1/1234.0x80.jpe'); // zero width
    await put('user/234/1234.100x80.jpe'); // too shallow
    await put('README.txt');
    await put('user/234/1/.1234.100x80.jpe.xyz.tmp'); // not our temp name
    await mkdir(join(dir.path, 'user/234/1'), { recursive: true });
    await symlink('/etc/passwd', join(dir.path, 'user/234/1/1234.1x1.jpe'));
    expect(await listAll(store)).toEqual([]);
  });
});

describe.each(databaseKinds())('gc on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let dir: { path: string; remove: () => Promise<void> };
  let store: FaultStore;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.sequelize.sync({ force: true });
    dir = await makeTempDir('gc');
    store = new FaultStore(new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' }));
  });
  afterEach(() => dir.remove());

  /** A user with an original and a thumbnail, and an orphan of a user that has no row. */
  async function scene() {
    const user = await models.User.create();
    const original = await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
    const thumbnail = await user.picture.generateThumbnail({ width: 100 }, { store });
    await store.putFile(
      (await jpeg(10, 10)).bytes,
      'user-picture',
      999,
      10,
      10,
      'image/jpeg',
      false,
    );
    return { user, original, thumbnail };
  }
  const orphanName = 'user-picture/999/0/999.10x10.jpe';

  test('reports an orphan only once it is older than the grace period, and deletes nothing', async () => {
    const { original, thumbnail } = await scene();
    let report = await gc({ store, models: db.sequelize });
    expect(report).toMatchObject({
      rows: 2,
      files: 3,
      orphans: [],
      recent: [expect.objectContaining({ name: orphanName, temporary: false })],
      missing: [],
      unknown: [],
      deleted: [],
    });
    await age(dir.path, orphanName, DAY + 60_000);
    await age(
      dir.path,
      store.inner
        .getUrl('user-picture', original.objectId, 405, 640, 'image/jpeg')
        .slice('http://x.test/'.length),
      2 * DAY,
    );
    report = await gc({ store, models: db.sequelize });
    expect(report.orphans.map((file) => file.name)).toEqual([orphanName]);
    expect(report.recent).toEqual([]);
    expect(report.deleted).toEqual([]);
    expect((await listAll(store)).length).toBe(3);
    // A shorter grace period, and the models given as a list.
    report = await gc({ store, models: [models.UserPicture, models.PostPhoto], gracePeriod: 0 });
    expect(report.orphans.map((file) => file.name)).toEqual([orphanName]);
    expect(await thumbnail.makeBlob({ store })).toBeInstanceOf(Buffer);
  });

  test('every finding of the report is a list, beside the counts, as the README lists them', async () => {
    await scene();
    const report = await gc({ store, models: db.sequelize });
    const readme = (await readFile(new URL('../../README.md', import.meta.url), 'utf8')).replace(
      /\s+/g,
      ' ',
    );
    const [, lists, counts] =
      /Every finding of its report is a list \((.*?)\) beside the counts (.*?);/.exec(readme) ?? [];
    const names = (text = '') => [...text.matchAll(/`(\w+)`/g)].map((match) => match[1]!).sort();
    const fields = Object.entries(report);
    expect(
      fields
        .filter(([, value]) => Array.isArray(value))
        .map(([name]) => name)
        .sort(),
    ).toEqual(names(lists));
    expect(
      fields
        .filter(([, value]) => !Array.isArray(value))
        .map(([name]) => name)
        .sort(),
    ).toEqual(names(counts));
    expect(names(lists).length).toBeGreaterThan(5);
    expect(typeof report.rows).toBe('number');
    expect(typeof report.files).toBe('number');
    for (const [name, count] of Object.entries(report.counts)) {
      expect(names(lists), name).toContain(name);
      expect(count, name).toBe(report[name as keyof typeof report.counts].length);
    }
  });

  test('with delete: true removes the orphans and stale temporary files, never a row', async () => {
    await scene();
    const temp = 'user-picture/5/0/.5.10x10.jpe.0123456789abcdef.tmp';
    await mkdir(join(dir.path, 'user-picture/5/0'), { recursive: true });
    await writeFile(join(dir.path, temp), 'half a file');
    const report = await gc({ store, models: db.sequelize, gracePeriod: 0, delete: true });
    expect(report.deleted.map((file) => file.name).sort()).toEqual([temp, orphanName].sort());
    expect(report.deleteFailures).toEqual([]);
    expect(await models.UserPicture.count()).toBe(2);
    expect((await listAll(store)).map((file) => file.name)).toHaveLength(2);
    const again = await gc({ store, models: db.sequelize, gracePeriod: 0, delete: true });
    expect(again).toMatchObject({ orphans: [], deleted: [], missing: [], unknown: [] });
  });

  test('reports rows whose file is missing, and keeps the rows', async () => {
    const { thumbnail } = await scene();
    await store.inner.delete(thumbnail);
    const report = await gc({ store, models: db.sequelize, gracePeriod: 0, delete: true });
    expect(report.missing).toEqual([
      {
        model: 'UserPicture',
        objectType: 'user-picture',
        objectId: thumbnail.objectId,
        width: thumbnail.width,
        height: thumbnail.height,
        mimetype: 'image/jpeg',
        original: false,
      },
    ]);
    expect(await models.UserPicture.count()).toBe(2);
  });

  test('a store that cannot check a file makes it "unknown", never "missing"', async () => {
    const { thumbnail } = await scene();
    await store.inner.delete(thumbnail);
    store.fail({ operation: 'statFile', times: Infinity });
    const report = await gc({ store, models: db.sequelize, gracePeriod: 0 });
    expect(report.missing).toEqual([]);
    expect(report.unknown).toHaveLength(1);
    expect(report.unknown[0]!.image).toMatchObject({ width: thumbnail.width, original: false });
    expect(report.unknown[0]!.error).toMatchObject({ code: 'E_STORE' });
  });

  test('a failed delete is reported, and the orphan stays', async () => {
    await scene();
    store.fail({ operation: 'deleteFile', times: Infinity });
    const report = await gc({ store, models: db.sequelize, gracePeriod: 0, delete: true });
    expect(report.deleted).toEqual([]);
    expect(report.deleteFailures.map(({ file }) => file.name)).toEqual([orphanName]);
    expect((await listAll(store)).map((file) => file.name)).toContain(orphanName);
  });

  test('a listing that fails rejects before anything is deleted', async () => {
    await scene();
    const broken = new FaultStore(store.inner);
    broken.listFiles = () => ({
      // eslint-disable-next-line require-yield
      async *[Symbol.asyncIterator]() {
        await Promise.resolve();
        throw new Error('listing failed');
      },
    });
    await expect(
      gc({ store: broken, models: db.sequelize, gracePeriod: 0, delete: true }),
    ).rejects.toThrow('listing failed');
    expect(await listAll(store)).toHaveLength(3);
  });

  test('backup copies of replaced files are orphans too', async () => {
    await scene();
    await store.putFile(Buffer.from('x'), '.imageattach-backup', 77, 10, 10, 'image/jpeg', false);
    const report = await gc({ store, models: db.sequelize, gracePeriod: 0 });
    expect(report.orphans.map((file) => fileIdentity(file.key)).sort()).toEqual(
      [
        fileIdentity({
          objectType: '.imageattach-backup',
          objectId: 77n,
          width: 10,
          height: 10,
          mimetype: 'image/jpeg',
        }),
        fileIdentity({
          objectType: 'user-picture',
          objectId: 999n,
          width: 10,
          height: 10,
          mimetype: 'image/jpeg',
        }),
      ].sort(),
    );
  });

  test('leaves staged files to recoverStagedFiles: they may hold committed bytes', async () => {
    await scene();
    const staged = `${STAGED_PREFIX}user-picture~${newToken()}`;
    await store.putFile(Buffer.from('x'), staged, 1, 405, 640, 'image/jpeg', false);
    const report = await gc({ store, models: db.sequelize, gracePeriod: 0, delete: true });
    expect(report.staged.map((file) => file.key.objectType)).toEqual([staged]);
    expect(report.orphans.map((file) => file.key.objectType)).toEqual(['user-picture']);
    expect((await listAll(store)).map((file) => file.key.objectType)).toContain(staged);
  });

  test('reports journal rows past the grace period whose staged file is gone; removes them with delete', async () => {
    await scene();
    const journal = stagedJournalModel(db.sequelize);
    const row = (token: string, createdAt: Date) => ({
      token,
      objectType: 'user-picture',
      objectId: '1',
      width: 405,
      height: 640,
      mimetype: 'image/jpeg',
      original: true,
      createdAt,
    });
    const finished = newToken(); // moved, its row's delete lost: nothing staged
    const young = newToken(); // as finished, but within the grace period
    const pending = newToken(); // its staged file is still there: recovery's
    await journal.create(row(finished, new Date(Date.now() - 2 * DAY)));
    await journal.create(row(young, new Date()));
    await journal.create(row(pending, new Date(Date.now() - 2 * DAY)));
    const staged = `${STAGED_PREFIX}user-picture~${pending}`;
    await store.putFile(Buffer.from('x'), staged, 1, 405, 640, 'image/jpeg', false);

    const dry = await gc({ store, models: db.sequelize, gracePeriod: DAY });
    expect(dry.journal.map((entry) => entry.token)).toEqual([finished]);
    expect(dry.journalDeleted).toEqual([]);
    expect(dry.staged.map((file) => file.key.objectType)).toEqual([staged]);
    expect(await journal.count()).toBe(3);
    const report = await gc({ store, models: db.sequelize, gracePeriod: DAY, delete: true });
    expect(report.journalDeleted.map((entry) => entry.token)).toEqual([finished]);
    const left = await journal.findAll({ order: [['token', 'ASC']] });
    expect(left.map((entry) => entry.get('token'))).toEqual([young, pending].sort());
    expect((await listAll(store)).map((file) => file.key.objectType)).toContain(staged);
  });

  test('validates its options once, naming the option', async () => {
    const bad = [
      [{ store: {}, models: db.sequelize }, TypeError],
      [{ store, models: [models.User] }, 'models'],
      [{ store, models: db.sequelize, gracePeriod: -1 }, 'gracePeriod'],
      [{ store, models: db.sequelize, gracePeriod: '1d' }, 'gracePeriod'],
      [{ store, models: db.sequelize, pageSize: 0 }, 'pageSize'],
      [{ store, models: db.sequelize, delete: 'yes' }, 'delete'],
    ] as const;
    for (const [options, option] of bad) {
      const attempt = gc(options as unknown as Parameters<typeof gc>[0]);
      if (option === TypeError) await expect(attempt).rejects.toBeInstanceOf(TypeError);
      else await expect(attempt).rejects.toMatchObject({ code: 'E_INVALID_OPTION', option });
    }
    const noListing = new FaultStore(store.inner);
    (noListing as { listFiles?: unknown }).listFiles = undefined;
    await expect(gc({ store: noListing, models: db.sequelize })).rejects.toMatchObject({
      option: 'store',
    });
  });
});
