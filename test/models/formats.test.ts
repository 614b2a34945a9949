/**
 * Formats beside sizes: `imageAttributes({ mimetypeInKey: true })` keys rows by mimetype too,
 * `generateThumbnails(sizes, { formats })` stores each size in each format (one file per
 * format, told apart by the extension), and findThumbnail, gc and migration see every format.
 */
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Image } from '../../src/index.js';
import { FileSystemStore, gc, imageAttributes, migrate, migrateClass } from '../../src/index.js';
import { rangeImageSource, splitIntoRanges } from '../../src/migration/key-ranges.js';
import { jpeg405x640 } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { MemoryStore } from '../support/memory-store.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineFormatModels } from './format-models.js';

const mimetypesOf = (images: readonly Image[]) =>
  images.map((image) => `${image.width}x${image.height} ${image.mimetype}`).sort();

test('imageAttributes puts mimetype in the key only when asked, and checks its options', () => {
  expect(imageAttributes().mimetype.primaryKey).toBe(false);
  expect(imageAttributes({ mimetypeInKey: true }).mimetype.primaryKey).toBe(true);
  expect(imageAttributes().placeholder).toBeUndefined();
  expect(imageAttributes({ placeholder: true }).placeholder).toMatchObject({ allowNull: true });
  expect(() => imageAttributes({ mimetypeInKey: 'yes' as never })).toThrow(
    expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'mimetypeInKey' }),
  );
  expect(() => imageAttributes({ placeholder: 1 as never })).toThrow(
    expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'placeholder' }),
  );
});

describe.each(databaseKinds())('formats beside sizes on $name', (kind) => {
  let db: TestDatabase;
  let models: ReturnType<typeof defineFormatModels>;
  let dir: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;

  beforeAll(async () => {
    db = await kind.open();
    models = defineFormatModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.reset();
    dir = await makeTempDir('formats');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' });
  });
  afterEach(() => dir.remove());

  async function member() {
    const created = await models.Member.create();
    await created.avatar.fromBlob((await jpeg405x640()).bytes, { store });
    return created;
  }

  test('the key is (parent, width, height, mimetype)', () => {
    expect([...models.MemberAvatar.primaryKeyAttributes].sort()).toEqual(
      ['height', 'memberId', 'mimetype', 'width'].sort(),
    );
    expect(models.MemberAvatar.identityAttributes()).toEqual(['memberId']);
    expect([...models.LegacyAvatar.primaryKeyAttributes].sort()).toEqual(
      ['height', 'memberId', 'width'].sort(),
    );
  });

  test('each size is stored in its format and in each of formats, one file each', async () => {
    const m = await member();
    const made = await m.avatar.generateThumbnails([{ width: 100 }, { width: 50 }], {
      store,
      formats: ['avif', 'webp'],
    });
    // One result per size, in the thumbnail format (the original's).
    expect(made.map((image) => [image.width, image.mimetype])).toEqual([
      [100, 'image/jpeg'],
      [50, 'image/jpeg'],
    ]);
    const images = await m.avatar.images();
    expect(mimetypesOf(images)).toEqual(
      [
        '405x640 image/jpeg',
        '100x158 image/jpeg',
        '100x158 image/avif',
        '100x158 image/webp',
        '50x79 image/jpeg',
        '50x79 image/avif',
        '50x79 image/webp',
      ].sort(),
    );
    // Each row has its own file, in its own format.
    for (const image of images) {
      const bytes = await image.makeBlob({ store });
      const { format } = await sharp(bytes).metadata();
      const expected = { 'image/jpeg': 'jpeg', 'image/avif': 'heif', 'image/webp': 'webp' };
      expect(format).toBe(expected[image.mimetype as keyof typeof expected]);
      await access(
        store.localPath(
          image.objectType,
          image.objectId,
          image.width,
          image.height,
          image.mimetype,
        ),
      );
    }
    const files = await readdir(join(dir.path, 'member-avatar'), { recursive: true });
    expect(files.filter((name) => /\.(jpe|avif|webp)$/.test(name))).toHaveLength(7);
  });

  test('asking again makes nothing new; a new format is added beside the others', async () => {
    const m = await member();
    await m.avatar.generateThumbnails([{ width: 100 }], { store, formats: ['webp'] });
    const first = mimetypesOf(await m.avatar.images());
    const again = await m.avatar.generateThumbnail({ width: 100 }, { store, formats: ['webp'] });
    expect(again.mimetype).toBe('image/jpeg');
    expect(mimetypesOf(await m.avatar.images())).toEqual(first);
    await m.avatar.generateThumbnail({ width: 100 }, { store, formats: ['avif'] });
    expect(await m.avatar.count()).toBe(first.length + 1);
  });

  test('format: picks the primary format; the original is never its stand-in', async () => {
    const m = await member();
    const webp = await m.avatar.generateThumbnail({ width: 405 }, { store, format: 'webp' });
    expect([webp.width, webp.height, webp.mimetype, webp.original]).toEqual([
      405,
      640,
      'image/webp',
      false,
    ]);
  });

  test('findThumbnail: the asked format, else the original, else its format', async () => {
    const m = await member();
    await m.avatar.generateThumbnails([{ width: 100 }], { store, formats: ['avif', 'webp'] });
    expect((await m.avatar.findThumbnail({ width: 100 })).mimetype).toBe('image/jpeg');
    expect((await m.avatar.findThumbnail({ width: 100, format: 'avif' })).mimetype).toBe(
      'image/avif',
    );
    expect((await m.avatar.findThumbnail({ height: 158, format: 'webp' })).width).toBe(100);
    expect((await m.avatar.findThumbnail({ width: 405 })).original).toBe(true);
    await expect(m.avatar.findThumbnail({ width: 100, format: 'png' })).rejects.toMatchObject({
      code: 'E_NO_THUMBNAIL',
    });
    await expect(m.avatar.findThumbnail({ width: 405, format: 'webp' })).rejects.toMatchObject({
      code: 'E_NO_THUMBNAIL',
    });
  });

  test('a table keyed by size alone refuses several formats and writes nothing', async () => {
    const m = await models.Member.create();
    await m.legacy.fromBlob((await jpeg405x640()).bytes, { store });
    await expect(
      m.legacy.generateThumbnails([{ width: 100 }], { store, formats: ['webp'] }),
    ).rejects.toMatchObject({ code: 'E_INVALID_OPTION', option: 'formats' });
    expect(await m.legacy.count()).toBe(1);
    // The thumbnail format alone is fine there.
    const same = await m.legacy.generateThumbnail({ width: 100 }, { store, formats: ['jpeg'] });
    expect(same.mimetype).toBe('image/jpeg');
    await expect(
      m.avatar.generateThumbnails([{ width: 100 }], { store, formats: ['svg' as never] }),
    ).rejects.toMatchObject({ code: 'E_INVALID_OPTION', option: 'formats' });
  });

  test('a new original replaces every format of every size', async () => {
    const m = await member();
    await m.avatar.generateThumbnails([{ width: 100 }], { store, formats: ['avif', 'webp'] });
    await m.avatar.fromBlob((await jpeg405x640(3)).bytes, { store });
    expect(await m.avatar.count()).toBe(1);
    const files = await readdir(join(dir.path, 'member-avatar'), { recursive: true });
    expect(files.filter((name) => /\.(jpe|avif|webp)$/.test(name))).toHaveLength(1);
  });

  test('gc sees every format as owned; a missing format is reported as missing', async () => {
    const m = await member();
    await m.avatar.generateThumbnails([{ width: 100 }], { store, formats: ['avif', 'webp'] });
    let report = await gc({ store, models: [models.MemberAvatar], gracePeriod: 0 });
    expect(report).toMatchObject({ orphans: [], missing: [], unknown: [] });
    const webp = await m.avatar.findThumbnail({ width: 100, format: 'webp' });
    await store.deleteFile(webp.objectType, webp.objectId, 100, 158, 'image/webp');
    report = await gc({ store, models: [models.MemberAvatar], gracePeriod: 0 });
    expect(report.missing).toMatchObject([{ width: 100, height: 158, mimetype: 'image/webp' }]);
    expect(report.orphans).toEqual([]);
  });

  test('gc tells a format whose row is gone from the formats of the same size that stay', async () => {
    const m = await member();
    await m.avatar.generateThumbnails([{ width: 100 }], { store, formats: ['avif', 'webp'] });
    const avif = await m.avatar.findThumbnail({ width: 100, format: 'avif' });
    // The row alone, as a crash between the row's delete and the file's would leave it.
    await models.MemberAvatar.destroy({
      where: { memberId: m.id, width: 100, height: 158, mimetype: 'image/avif' },
      hooks: false,
    });
    const report = await gc({ store, models: [models.MemberAvatar], gracePeriod: 0 });
    expect(report.missing).toEqual([]);
    expect(report.orphans).toHaveLength(1);
    expect(report.orphans[0]).toMatchObject({
      key: { objectType: avif.objectType, width: 100, height: 158, mimetype: 'image/avif' },
    });
  });

  test('migration copies every format of every size', async () => {
    const m = await member();
    await m.avatar.generateThumbnails([{ width: 100 }], { store, formats: ['avif', 'webp'] });
    const destination = new MemoryStore();
    await migrate(db.sequelize, store, destination).execute();
    const keys = [...destination.files.keys()].filter((key) => key.startsWith('member-avatar/'));
    expect(keys.map((key) => key.slice(key.lastIndexOf('.'))).sort()).toEqual(
      ['.avif', '.jpe', '.jpe', '.webp'].sort(),
    );
  });

  // Pages and ranges are cut by primary key: a cut between two formats of one size must
  // neither skip nor repeat a row, which it would if mimetype were not part of the key read.
  test.each([1, 2, 3])(
    'migration pages and id ranges of %i row(s) cut between formats, and copy each row once',
    async (size) => {
      const m = await member();
      await m.avatar.generateThumbnails([{ width: 100 }, { width: 50 }], {
        store,
        formats: ['avif', 'webp'],
      });
      const rows = mimetypesOf(await m.avatar.images());
      expect(rows).toHaveLength(7);
      const destination = new MemoryStore();
      const report = await migrateClass(models.MemberAvatar, store, destination, {
        pageSize: size,
      }).execute();
      expect(report).toMatchObject({ migrated: 7, failed: 0 });
      expect(destination.files.size).toBe(7);
      const seen: Image[] = [];
      for await (const range of splitIntoRanges([models.MemberAvatar], size)) {
        for await (const image of rangeImageSource(models.MemberAvatar, range, size).images()) {
          seen.push(image);
        }
      }
      expect(mimetypesOf(seen)).toEqual(rows);
    },
  );
});
