/**
 * The Image mixin: columns, objectType and objectId defaults and overrides, size, locate and
 * toHTML; and what fromFile accepts and refuses.
 */
import sharp from 'sharp';
import { createReadStream } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DataTypes, Model, type NonAttribute, type Sequelize } from 'sequelize';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  FileSystemStore,
  Image,
  imageAttachment,
  imageAttributes,
  type SingleImageSet,
} from '../../src/index.js';
import {
  animatedGif,
  jpeg405x640,
  jpegOrientation6,
  pngAlpha,
  svg,
  textFileNamedJpg,
  truncatedJpeg,
  webp,
} from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from './models.js';
import { storeKinds, type StoreFixture } from './stores.js';

const UUID = '76fdc405-9120-4ffc-a7a1-3c35409c595f';
const fsKind = storeKinds().find((kind) => kind.name === 'fs')!;

function defineKeyModels(sequelize: Sequelize) {
  class BigKeyImage extends Image {
    declare thingId: string;
  }
  BigKeyImage.init(
    { thingId: { type: DataTypes.BIGINT, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'big_key_image' },
  );
  class UuidKeyImage extends Image {
    declare thingId: string;
  }
  UuidKeyImage.init(
    { thingId: { type: DataTypes.UUID, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'uuid_key_image' },
  );
  class StringKeyImage extends Image {
    declare thingId: string;
  }
  StringKeyImage.init(
    { thingId: { type: DataTypes.STRING, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'string_key_image' },
  );
  class CompositeKeyImage extends Image {
    declare a: number;
    declare b: number;
  }
  CompositeKeyImage.init(
    {
      a: { type: DataTypes.INTEGER, primaryKey: true },
      b: { type: DataTypes.INTEGER, primaryKey: true },
      ...imageAttributes({ createdAtField: 'made_at' }),
    },
    { sequelize, tableName: 'composite_key_image' },
  );
  class ObjectIdOverriddenImage extends Image {
    declare thingId: number;
    static override objectType = 'overridden';
    override get objectId(): NonAttribute<bigint> {
      return BigInt(this.thingId) * 2n;
    }
  }
  ObjectIdOverriddenImage.init(
    { thingId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'object_id_overridden_image' },
  );
  return { BigKeyImage, UuidKeyImage, StringKeyImage, CompositeKeyImage, ObjectIdOverriddenImage };
}

describe('imageAttributes', () => {
  test('the columns of SQLAlchemy-ImageAttach, created_at by default', () => {
    const columns = imageAttributes();
    expect(columns.width.primaryKey).toBe(true);
    expect(columns.height.primaryKey).toBe(true);
    expect(columns.mimetype.allowNull).toBe(false);
    expect(columns.original.defaultValue).toBe(false);
    expect(columns.createdAt.field).toBe('created_at');
    expect(imageAttributes({ createdAtField: 'uploaded' }).createdAt.field).toBe('uploaded');
    expect(() => imageAttributes({ createdAtField: '' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'createdAtField' }),
    );
  });
});

describe.each(databaseKinds())('Image on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let keyModels: ReturnType<typeof defineKeyModels>;
  let fixture: StoreFixture;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
    keyModels = defineKeyModels(db.sequelize);
    await db.reset();
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    fixture = await fsKind.open();
  });
  afterEach(() => fixture.cleanup());

  test('the table has only the mixin columns and the keys (no updatedAt)', async () => {
    const describe = (tableName: string) =>
      db.sequelize.getQueryInterface().describeTable(tableName);
    const columns = await describe('user_picture');
    expect(Object.keys(columns).sort()).toEqual(
      ['created_at', 'height', 'mimetype', 'original', 'userId', 'width'].sort(),
    );
    const composite = await describe('composite_key_image');
    expect(Object.keys(composite)).toContain('made_at');
  });

  test('every image model is found among sequelize.models', () => {
    const found = Object.values(db.sequelize.models).filter((m) => m.prototype instanceof Image);
    expect(found.map((m) => m.name).sort()).toEqual(
      [
        'BigKeyImage',
        'CompositeKeyImage',
        'ObjectIdOverriddenImage',
        'PostPhoto',
        'StringKeyImage',
        'UserPicture',
        'UuidKeyImage',
      ].sort(),
    );
  });

  test('objectType is the table name with - for _, unless overridden', () => {
    expect(models.UserPicture.build().objectType).toBe('user-picture');
    expect(keyModels.ObjectIdOverriddenImage.build().objectType).toBe('overridden');
  });

  test('objectId: integer, BIGINT (returned as a string) and UUID keys', () => {
    expect(models.UserPicture.build({ userId: 1234 } as never).objectId).toBe(1234n);
    const big = keyModels.BigKeyImage.build({ thingId: '9007199254740993' });
    expect(big.objectId).toBe(9007199254740993n);
    const uuid = keyModels.UuidKeyImage.build({ thingId: UUID });
    expect(uuid.objectId).toBe(BigInt(`0x${UUID.replace(/-/g, '')}`));
    // The value of the original's test_default_object_id.
    expect(uuid.objectId).toBe(158166530401166902469325588563807197535n);
  });

  test('objectId of a BIGINT key as loaded from the database', async () => {
    const store = fixture.store;
    class Thing extends Model {
      declare id: string;
      declare readonly picture: NonAttribute<SingleImageSet>;
    }
    Thing.init(
      { id: { type: DataTypes.BIGINT, primaryKey: true } },
      { sequelize: db.sequelize, tableName: 'things' },
    );
    imageAttachment(Thing, 'picture', keyModels.BigKeyImage, { foreignKey: 'thingId' });
    await Thing.sync();
    await keyModels.BigKeyImage.sync({ force: true });
    // PostgreSQL returns BIGINT as a string; SQLite's driver as a number, exact up to 2^53 - 1.
    const id = db.dialect === 'postgres' ? 9007199254740993n : 9007199254740991n;
    const thing = await Thing.create({ id: String(id) });
    await thing.picture.fromBlob((await pngAlpha()).bytes, { store });
    const loaded = await keyModels.BigKeyImage.findOne();
    expect(loaded!.objectId).toBe(id);
    expect(await fixture.list()).toEqual([
      `big-key-image/${id % 1000n}/${id / 1000n}/${id}.80x50.png`,
    ]);
  });

  test('an overridden objectId is used for the file', () => {
    expect(keyModels.ObjectIdOverriddenImage.build({ thingId: 21 }).objectId).toBe(42n);
  });

  test('string and composite keys need an override', () => {
    expect(() => keyModels.StringKeyImage.build({ thingId: 'abc' }).objectId).toThrow(
      expect.objectContaining({ code: 'E_NO_OBJECT_ID' }),
    );
    expect(() => keyModels.CompositeKeyImage.build({ a: 1, b: 2 }).objectId).toThrow(
      expect.objectContaining({ code: 'E_NO_OBJECT_ID' }),
    );
  });

  test('size, locate with the cache-buster, and escaped toHTML', () => {
    const store = new FileSystemStore({ path: tmpdir(), baseUrl: 'http://x.test/a"b<c>/' });
    const image = models.UserPicture.build({
      userId: 1234,
      width: 100,
      height: 80,
      mimetype: 'image/jpeg',
      original: true,
      createdAt: new Date('2017-10-10T12:34:56.789Z'),
    });
    expect(image.size).toEqual([100, 80]);
    const url = 'http://x.test/a"b<c>/user-picture/234/1/1234.100x80.jpe?_ts=20171010123456789000';
    expect(image.locate({ store })).toBe(url);
    expect(image.toHTML({ store })).toBe(
      '<img src="http://x.test/a&quot;b&lt;c&gt;/user-picture/234/1/1234.100x80.jpe?_ts=20171010123456789000" width="100" height="80">',
    );
  });

  describe('fromFile inputs', () => {
    test('a Readable, a path, a Buffer and both kinds of multer file', async () => {
      const store = fixture.store;
      const sample = await jpeg405x640(3);
      const dir = await makeTempDir();
      try {
        const path = join(dir.path, 'upload.bin');
        await writeFile(path, sample.bytes);
        const inputs = [
          Readable.from([sample.bytes.subarray(0, 100), sample.bytes.subarray(100)]),
          createReadStream(path),
          path,
          sample.bytes,
          { path },
          { buffer: sample.bytes },
        ];
        for (const input of inputs) {
          const user = await models.User.create();
          const image = await user.picture.fromFile(input, { store });
          expect([image.width, image.height, image.mimetype]).toEqual([405, 640, 'image/jpeg']);
          expect(await image.makeBlob({ store })).toEqual(sample.bytes);
        }
        // The temporary copies of streams are gone.
        expect(await readdir(dir.path)).toEqual(['upload.bin']);
      } finally {
        await dir.remove();
      }
    });

    test('types and displayed sizes are read from the bytes; originals are stored as they are', async () => {
      const store = fixture.store;
      for (const sample of [
        await jpegOrientation6(),
        await pngAlpha(),
        await animatedGif(),
        svg(),
        await webp(),
      ]) {
        const user = await models.User.create();
        const image = await user.picture.fromFile(sample.bytes, { store });
        expect([image.width, image.height, image.mimetype]).toEqual([
          sample.width,
          sample.height,
          sample.mimetype,
        ]);
        expect(await image.makeBlob({ store })).toEqual(sample.bytes);
      }
    });

    test('text named .jpg is refused with NotAnImageError, leaving nothing behind', async () => {
      const store = fixture.store;
      const user = await models.User.create();
      await expect(user.picture.fromFile(textFileNamedJpg.bytes, { store })).rejects.toMatchObject({
        code: 'E_NOT_AN_IMAGE',
        status: 415,
      });
      await expect(
        user.picture.fromFile({ buffer: textFileNamedJpg.bytes }, { store }),
      ).rejects.toMatchObject({
        code: 'E_NOT_AN_IMAGE',
      });
      await expect(
        user.picture.fromFile(42 as unknown as Buffer, { store }),
      ).rejects.toBeInstanceOf(TypeError);
      expect(await user.picture.count()).toBe(0);
      expect(await fixture.list()).toEqual([]);
    });

    test('a truncated JPEG: its header is accepted, its thumbnail fails cleanly', async () => {
      const store = fixture.store;
      const user = await models.User.create();
      const original = await user.picture.fromFile(await truncatedJpeg(), { store });
      await expect(user.picture.generateThumbnail({ width: 50 }, { store })).rejects.toMatchObject({
        code: 'E_NOT_AN_IMAGE',
      });
      expect(await user.picture.count()).toBe(1);
      expect(await fixture.list()).toEqual([fixture.keyOf(original)]);
    });

    test('fromRawFile trusts the caller and checks its arguments', async () => {
      const store = fixture.store;
      const user = await models.User.create();
      const sample = await jpeg405x640();
      await expect(
        user.picture.fromRawFile(sample.bytes, {
          store,
          width: 0,
          height: 1,
          mimetype: 'image/jpeg',
        }),
      ).rejects.toBeInstanceOf(TypeError);
      await expect(
        user.picture.fromRawFile(sample.bytes, {
          store,
          width: 1,
          height: 1,
          mimetype: 'text/plain',
        }),
      ).rejects.toBeInstanceOf(TypeError);
      const dir = await makeTempDir();
      try {
        const path = join(dir.path, 'staged');
        await writeFile(path, sample.bytes);
        const image = await user.picture.fromRawFile(path, {
          store,
          width: 405,
          height: 640,
          mimetype: 'image/jpeg',
        });
        expect(await image.makeBlob({ store })).toEqual(sample.bytes);
        await expect(
          user.picture.fromRawFile(join(dir.path, 'missing'), {
            store,
            width: 1,
            height: 1,
            mimetype: 'image/png',
          }),
        ).rejects.toMatchObject({ code: 'ENOENT' });
        // The failed call left the previous set in place.
        expect((await user.picture.requireOriginal()).size).toEqual([405, 640]);
      } finally {
        await dir.remove();
      }
    });

    test('generateThumbnails decodes once and makes all sizes in one transaction', async () => {
      const store = fixture.store;
      const user = await models.User.create();
      await user.picture.fromFile((await jpegOrientation6()).bytes, { store });
      const made = await user.picture.generateThumbnails(
        [{ width: 10 }, { height: 30 }, { ratio: 1 }],
        {
          store,
          format: 'webp',
        },
      );
      expect(made.map((image) => [image.width, image.height, image.mimetype])).toEqual([
        [10, 15, 'image/webp'],
        [20, 30, 'image/webp'],
        [40, 60, 'image/jpeg'],
      ]);
      expect(await fixture.list()).toHaveLength(3);
    });

    test('generateThumbnails makes a box asked for twice once, and returns it for both', async () => {
      const store = fixture.store;
      const user = await models.User.create();
      await user.picture.fromFile((await jpeg405x640()).bytes, { store });
      const made = await user.picture.generateThumbnails(
        [{ width: 100 }, { height: 50 }, { width: 100 }],
        { store },
      );
      expect(made[0]).toBe(made[2]);
      expect(made.map((image) => image.size)).toEqual([
        [100, 158],
        [31, 50],
        [100, 158],
      ]);
      expect(await user.picture.count()).toBe(3);
    });

    test('thumbnails are made from `source` when given, not from the store', async () => {
      const store = fixture.store;
      const user = await models.User.create();
      await user.picture.fromFile((await jpeg405x640()).bytes, { store });
      const dir = await makeTempDir('thumbnail-source');
      try {
        // A red image of the same size stands in for the stored original.
        const red = join(dir.path, 'red.jpg');
        await sharp({ create: { width: 405, height: 640, channels: 3, background: '#ff0000' } })
          .jpeg()
          .toFile(red);
        const [one] = await user.picture.generateThumbnails([{ width: 40 }], {
          store,
          source: red,
        });
        const [a, b] = await user.picture.generateThumbnails([{ width: 20 }, { width: 10 }], {
          store,
          source: red,
        });
        for (const thumbnail of [one, a, b]) {
          const { dominant } = await sharp(await thumbnail!.makeBlob({ store })).stats();
          expect(dominant.r).toBeGreaterThan(200);
          expect(dominant.g).toBeLessThan(60);
        }
      } finally {
        await dir.remove();
      }
    });
  });
});
