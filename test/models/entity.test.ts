/**
 * The original's tests/entity_test.py, ported: attach, read, thumbnail, replace, delete and
 * roll back, over its sample images (JPEG 405x640, SVG 450x450; a PNG instead of the PDF that
 * prebuilt sharp cannot read), with an explicit store and with the current store.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { storeContext, type Store } from '../../src/index.js';
import { jpeg405x640, rasterAndVectorSamples, type Sample } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { defineModels, type Models } from './models.js';
import { storeKinds, type StoreFixture } from './stores.js';

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const samples = await rasterAndVectorSamples();
const fsKind = storeKinds().find((kind) => kind.name === 'fs')!;

class Rollback extends Error {}

describe.each(databaseKinds())('entity tests on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let fixture: StoreFixture;
  let store: Store;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.reset();
    fixture = await fsKind.open();
    store = fixture.store;
  });
  afterEach(() => fixture.cleanup());

  /** Runs `fn` twice in spirit: with `{ store }` given, and with the store current. */
  const modes = [
    { mode: 'explicitly', run: <T>(fn: (s: Store | undefined) => Promise<T>) => fn(store) },
    {
      mode: 'implicitly',
      run: <T>(fn: (s: Store | undefined) => Promise<T>) =>
        storeContext(store, () => fn(undefined)),
    },
  ];

  describe.each(samples.map((sample) => ({ name: sample.name, sample })))(
    'with the $name sample',
    ({ sample }: { sample: Sample }) => {
      test.each(modes)('fromRawFile, thumbnails and replacement ($mode)', async ({ run }) => {
        await run(async (s) => {
          const user = await models.User.create();
          const image = await user.picture.fromRawFile(sample.bytes, {
            store: s,
            width: sample.width,
            height: sample.height,
            mimetype: sample.mimetype,
          });
          expect((await user.picture.original())?.size).toEqual(image.size);
          expect(await user.picture.count()).toBe(1);
          expect(await user.picture.makeBlob({ store: s })).toEqual(sample.bytes);
          // Reading twice gives the same bytes (the original's ReusableFileProxy test).
          expect(await image.makeBlob({ store: s })).toEqual(sample.bytes);
          await user.picture.generateThumbnail({ ratio: 0.5 }, { store: s });
          expect(await user.picture.count()).toBe(2);
          // Re-attaching replaces everything.
          const other = await jpeg405x640(7);
          await user.picture.fromBlob(other.bytes, { store: s });
          expect(await user.picture.count()).toBe(1);
          expect(await user.picture.makeBlob({ store: s })).toEqual(other.bytes);
          // An original and two thumbnails made in one transaction.
          await db.sequelize.transaction(async (transaction) => {
            await user.picture.fromBlob(sample.bytes, { store: s, transaction });
            await user.picture.generateThumbnail({ width: 10 }, { store: s, transaction });
            await user.picture.generateThumbnail({ width: 20 }, { store: s, transaction });
          });
          const images = await user.picture.images();
          expect(images.map((i) => i.width).sort((a, b) => a - b)).toEqual(
            [10, 20, sample.width].sort((a, b) => a - b),
          );
          for (const thumbnail of images.filter((i) => !i.original)) {
            const meta = await sharp(await thumbnail.makeBlob({ store: s })).metadata();
            expect(meta.width).toBe(thumbnail.width);
            expect(meta.height).toBe(thumbnail.height);
          }
          expect(await fixture.list()).toHaveLength(3);
        });
      });

      test.each(modes)('fromBlob and makeBlob ($mode)', async ({ run }) => {
        await run(async (s) => {
          const user = await models.User.create();
          const image = await user.picture.fromBlob(sample.bytes, { store: s });
          expect([image.width, image.height, image.mimetype]).toEqual([
            sample.width,
            sample.height,
            sample.mimetype,
          ]);
          expect(image.original).toBe(true);
          expect(await user.picture.makeBlob({ store: s })).toEqual(sample.bytes);
        });
      });

      test.each(modes)(
        'a rolled-back attach leaves no row and no file ($mode)',
        async ({ run }) => {
          await run(async (s) => {
            const user = await models.User.create();
            let stored: Awaited<ReturnType<typeof user.picture.fromBlob>> | undefined;
            await expect(
              db.sequelize.transaction(async (transaction) => {
                stored = await user.picture.fromBlob(sample.bytes, { store: s, transaction });
                throw new Rollback();
              }),
            ).rejects.toBeInstanceOf(Rollback);
            expect(await user.picture.count()).toBe(0);
            expect(await user.picture.original()).toBeNull();
            await expect(stored!.openFile({ store })).rejects.toMatchObject({ code: 'ENOENT' });
          });
        },
      );

      test('delete, and a rolled-back delete', async () => {
        const user = await models.User.create();
        const image = await user.picture.fromBlob(sample.bytes, { store });
        const transaction = await db.sequelize.transaction();
        await image.destroy({ transaction });
        await transaction.rollback();
        expect((await user.picture.original())?.size).toEqual(image.size);
        expect(await image.makeBlob({ store })).toEqual(sample.bytes);
        await db.sequelize.transaction((t) => image.destroy({ transaction: t }));
        expect(await user.picture.original()).toBeNull();
        await expect(image.openFile({ store })).rejects.toMatchObject({ code: 'ENOENT' });
      });

      test('delete the parent, and a rolled-back delete of the parent', async () => {
        const user = await models.User.create();
        const image = await user.picture.fromBlob(sample.bytes, { store });
        await storeContext(store, async () => {
          await expect(
            db.sequelize.transaction(async (transaction) => {
              await user.destroy({ transaction });
              throw new Rollback();
            }),
          ).rejects.toBeInstanceOf(Rollback);
          expect(await image.makeBlob()).toEqual(sample.bytes);
          await user.destroy();
        });
        expect(await models.UserPicture.count()).toBe(0);
        await expect(image.openFile({ store })).rejects.toMatchObject({ code: 'ENOENT' });
      });

      test('rows and files that exist already (written by the Python library) load and delete', async () => {
        const [user, other] = [await models.User.create(), await models.User.create()];
        const table = db.sequelize.getQueryInterface().quoteIdentifier('user_picture');
        // Sequelize's replacements write a Date in whole seconds on MySQL: the text, as the
        // Python library's driver sends it.
        const createdAt =
          kind.name === 'mysql' ? '2017-10-10 12:34:56.789' : new Date('2017-10-10T12:34:56.789Z');
        await db.sequelize.query(
          `INSERT INTO ${table} (${[
            'userId',
            'width',
            'height',
            'mimetype',
            'original',
            'created_at',
          ]
            .map((c) => db.sequelize.getQueryInterface().quoteIdentifier(c))
            .join(', ')}) VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)`,
          {
            replacements: [
              ...[user.id, sample.width, sample.height, sample.mimetype, true],
              createdAt,
              ...[other.id, sample.width, sample.height, sample.mimetype, true],
              createdAt,
            ],
          },
        );
        for (const id of [user.id, other.id]) {
          await store.putFile(
            sample.bytes,
            'user-picture',
            id,
            sample.width,
            sample.height,
            sample.mimetype,
            false,
          );
        }
        const image = (await user.picture.original({ store }))!;
        // The Python library's layout and cache-buster, exactly.
        const extension = { 'image/jpeg': '.jpe', 'image/svg+xml': '.svg', 'image/png': '.png' }[
          sample.mimetype
        ];
        expect(image.locate({ store })).toBe(
          `http://images.test/user-picture/${user.id}/0/${user.id}.${sample.width}x${sample.height}` +
            `${extension}?_ts=20171010123456789000`,
        );
        expect(await image.makeBlob({ store })).toEqual(sample.bytes);
        await image.destroy();
        await storeContext(store, () => other.destroy());
        expect(await fixture.list()).toEqual([]);
      });

      test('generateThumbnail: sizes, de-duplication and findThumbnail', async () => {
        const user = await models.User.create();
        await expect(user.picture.generateThumbnail({ ratio: 2 }, { store })).rejects.toMatchObject(
          { code: 'E_NO_ORIGINAL' },
        );
        const original = await user.picture.fromBlob(sample.bytes, { store });
        const { width: w, height: h } = sample;
        const double = await user.picture.generateThumbnail({ ratio: 2 }, { store });
        expect(double.size).toEqual([w * 2, h * 2]);
        const half = await user.picture.generateThumbnail({ height: Math.trunc(h / 2) }, { store });
        expect(Math.abs(half.width - Math.trunc(w / 2))).toBeLessThanOrEqual(1);
        expect(half.height).toBe(Math.trunc(h / 2));
        const again = await user.picture.generateThumbnail({ width: w * 2 }, { store });
        expect(again.size).toEqual(double.size);
        expect(
          (await user.picture.generateThumbnail({ width: half.width }, { store })).size,
        ).toEqual(half.size);
        expect((await user.picture.generateThumbnail({ ratio: 1 }, { store })).original).toBe(true);
        expect(await user.picture.count()).toBe(3);
        await user.picture.generateThumbnail({ width: w * 3 }, { store });
        expect(await user.picture.count()).toBe(4);
        for (const image of [original, double, half]) {
          expect((await user.picture.findThumbnail({ width: image.width })).size).toEqual(
            image.size,
          );
          expect((await user.picture.findThumbnail({ height: image.height })).size).toEqual(
            image.size,
          );
          expect((await user.picture.findThumbnail(image)).size).toEqual(image.size);
        }
        for (const size of [{ width: 271 }, { height: 427 }, { width: 271, height: 427 }]) {
          await expect(user.picture.findThumbnail(size)).rejects.toMatchObject({
            code: 'E_NO_THUMBNAIL',
          });
        }
        await expect(user.picture.findThumbnail({})).rejects.toBeInstanceOf(TypeError);
        expect(await fixture.list()).toHaveLength(4);
      });
    },
  );

  test('replacing the original clears the set; regenerated files are new', async () => {
    const user = await models.User.create();
    await user.picture.fromBlob((await jpeg405x640(1)).bytes, { store });
    const before = await Promise.all(
      [100, 50].map(async (width) =>
        md5(await (await user.picture.generateThumbnail({ width }, { store })).makeBlob({ store })),
      ),
    );
    const oldOriginal = md5(await user.picture.makeBlob({ store }));
    await user.picture.fromBlob((await jpeg405x640(200)).bytes, { store });
    await expect(user.picture.findThumbnail({ width: 100 })).rejects.toMatchObject({
      code: 'E_NO_THUMBNAIL',
    });
    const after = await Promise.all(
      [100, 50].map(async (width) =>
        md5(await (await user.picture.generateThumbnail({ width }, { store })).makeBlob({ store })),
      ),
    );
    expect(md5(await user.picture.makeBlob({ store }))).not.toBe(oldOriginal);
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(await fixture.list()).toHaveLength(3);
  });

  test('image columns can be ordered by', async () => {
    const user = await models.User.create();
    await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
    await user.picture.generateThumbnail({ width: 10 }, { store });
    for (const column of ['width', 'height', 'mimetype', 'original', 'createdAt']) {
      const rows = await models.UserPicture.findAll({ order: [[column, 'ASC']] });
      expect(rows).toHaveLength(2);
    }
  });

  test('an empty set renders as an empty string and has no original to locate', async () => {
    const user = await models.User.create();
    expect(await user.picture.toHTML({ store })).toBe('');
    await expect(user.picture.locate({ store })).rejects.toMatchObject({ code: 'E_NO_ORIGINAL' });
    await expect(user.picture.makeBlob({ store })).rejects.toMatchObject({ code: 'E_NO_ORIGINAL' });
    await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
    const original = (await user.picture.original())!;
    expect(await user.picture.locate({ store })).toBe(original.locate({ store }));
    expect(await user.picture.toHTML({ store })).toBe(original.toHTML({ store }));
  });

  test('an unsaved parent cannot take images', async () => {
    const user = models.User.build();
    await expect(
      user.picture.fromBlob((await jpeg405x640()).bytes, { store }),
    ).rejects.toBeInstanceOf(TypeError);
  });

  test('image rows are only created by image sets', async () => {
    const user = await models.User.create();
    await expect(
      models.UserPicture.create({
        userId: user.id,
        width: 1,
        height: 1,
        mimetype: 'image/png',
        original: true,
        createdAt: new Date(),
      }),
    ).rejects.toBeInstanceOf(TypeError);
    expect(await models.UserPicture.count()).toBe(0);
  });
});
