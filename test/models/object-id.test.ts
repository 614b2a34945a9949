/**
 * Object ids of composite keys: the original's pairing, `pairObjectId`, `imageAttachment`'s
 * `objectId` option, and the README's Models example run as written.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import {
  DataTypes,
  Model,
  type CreationOptional,
  type NonAttribute,
  type Sequelize,
} from 'sequelize';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  FileSystemStore,
  Image,
  imageAttachment,
  imageAttributes,
  pairIntegers,
  pairObjectId,
  type MultipleImageSet,
  type SingleImageSet,
} from '../../src/index.js';
import { codeBetween, readmeBlockWith } from '../docs/readme-blocks.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';

describe('pairIntegers', () => {
  test("the original's (a + b)² + a", () => {
    expect(pairIntegers(0n, 0n)).toBe(0n);
    expect(pairIntegers(0n, 1n)).toBe(1n);
    expect(pairIntegers(1n, 0n)).toBe(2n);
    expect(pairIntegers(2n, 3n)).toBe(27n);
    // The original's tests: (manything_id + cover_id) ** 2 + manything_id.
    expect(pairIntegers(1234n, 1n)).toBe(1235n * 1235n + 1234n);
  });

  test('one-to-one on every pair of a grid, and unbounded', () => {
    const seen = new Set<bigint>();
    for (let a = 0n; a < 60n; a++) for (let b = 0n; b < 60n; b++) seen.add(pairIntegers(a, b));
    expect(seen.size).toBe(3600);
    const big = 2n ** 128n;
    expect(pairIntegers(big, 1n)).toBe((big + 1n) ** 2n + big);
  });

  test('negative integers are refused', () => {
    expect(() => pairIntegers(-1n, 0n)).toThrow(RangeError);
    expect(() => pairIntegers(0n, -1n)).toThrow(RangeError);
  });
});

function defineModels(sequelize: Sequelize) {
  class Album extends Model {
    declare id: CreationOptional<number>;
    declare readonly covers: NonAttribute<MultipleImageSet<AlbumCover>>;
  }
  Album.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'album', timestamps: false },
  );
  class AlbumCover extends Image {
    declare albumId: number;
    declare side: string;
    declare slot: number;
  }
  AlbumCover.init(
    {
      albumId: { type: DataTypes.INTEGER, primaryKey: true },
      side: { type: DataTypes.BIGINT, primaryKey: true },
      slot: { type: DataTypes.INTEGER, primaryKey: true },
      ...imageAttributes(),
    },
    { sequelize, tableName: 'album_cover' },
  );
  return { Album, AlbumCover };
}

/**
 * The README's Models example, as written there (but for the `sequelize` it is given): a test
 * below checks that the two agree.
 */
function defineReadmeModels(sequelize: Sequelize) {
  class User extends Model {
    declare id: CreationOptional<number>;
    declare readonly picture: NonAttribute<SingleImageSet<UserPicture>>;
  }
  User.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize },
  );

  class UserPicture extends Image {
    declare userId: number;
  }
  UserPicture.init(
    { userId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'user_picture' }, // files under the object type `user-picture`
  );
  imageAttachment(User, 'picture', UserPicture, { foreignKey: 'userId' });

  // Several sets per parent: the discriminator columns tell them apart.
  class Post extends Model {
    declare id: CreationOptional<number>;
    declare readonly photos: NonAttribute<MultipleImageSet<PostPhoto>>;
  }
  Post.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize },
  );

  class PostPhoto extends Image {
    declare postId: number;
    declare orderIndex: number;
  }
  PostPhoto.init(
    {
      postId: { type: DataTypes.INTEGER, primaryKey: true },
      orderIndex: { type: DataTypes.INTEGER, primaryKey: true },
      ...imageAttributes(),
    },
    { sequelize, tableName: 'post_photo' },
  );
  // Files are keyed by one integer per set: the two key columns are paired into one.
  imageAttachment(Post, 'photos', PostPhoto, {
    foreignKey: 'postId',
    multiple: true,
    objectId: pairObjectId('postId', 'orderIndex'),
  });
  return { User, UserPicture, Post, PostPhoto };
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(root, path)));
    else found.push(relative(root, path));
  }
  return found.sort();
}

test("defineReadmeModels is the README's Models example, statement for statement", async () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  const readme = (await readmeBlockWith(ROOT, 'class PostPhoto extends Image')).code;
  const own = await readFile(fileURLToPath(import.meta.url), 'utf8');
  const copy = own.slice(own.indexOf('function defineReadmeModels('));
  expect(codeBetween(copy, 'class User', 'return {')).toBe(
    codeBetween(readme, 'class User', 'await sequelize.sync()'),
  );
});

describe.each(databaseKinds())('composite keys on $name', (kind) => {
  let db: TestDatabase;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let store: FileSystemStore;
  let models: ReturnType<typeof defineModels>;
  let readme: ReturnType<typeof defineReadmeModels>;
  let png: Buffer;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
    readme = defineReadmeModels(db.sequelize);
    dir = await makeTempDir('imageattach-object-id');
    png = await sharp({ create: { width: 40, height: 30, channels: 3, background: 'blue' } })
      .png()
      .toBuffer();
  });
  beforeEach(async () => {
    await db.reset();
    await dir.remove();
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://img.test/' });
  });
  afterAll(async () => {
    await db?.close();
    await dir?.remove();
  });

  test("the README's Models example works as written", async () => {
    const { User, Post } = readme;
    const user = await User.create();
    const picture = await user.picture.fromBlob(png, { store });
    expect(picture.objectId).toBe(BigInt(user.id));
    const post = await Post.create();
    const first = await post.photos.getImageSet({ orderIndex: 0 }).fromBlob(png, { store });
    const second = await post.photos.getImageSet({ orderIndex: 1 }).fromBlob(png, { store });
    const thumbnail = await post.photos
      .getImageSet({ orderIndex: 1 })
      .generateThumbnail({ width: 20 }, { store });
    const id = (n: number) => (BigInt(post.id) + BigInt(n)) ** 2n + BigInt(post.id);
    expect([first.objectId, second.objectId, thumbnail.objectId]).toEqual([id(0), id(1), id(1)]);
    expect(await listFiles(dir.path)).toEqual(
      [
        `post-photo/${id(0)}/0/${id(0)}.40x30.png`,
        `post-photo/${id(1)}/0/${id(1)}.40x30.png`,
        `post-photo/${id(1)}/0/${id(1)}.20x15.png`,
        `user-picture/${user.id}/0/${user.id}.40x30.png`,
      ].sort(),
    );
    expect(second.locate({ store })).toMatch(
      new RegExp(`^http://img\\.test/post-photo/${id(1)}/0/${id(1)}\\.40x30\\.png\\?_ts=\\d{20}$`),
    );
    const sets = await post.photos.imageSets({ store });
    expect(await Promise.all(sets.map((set) => set.count()))).toEqual([1, 2]);
    expect(await sets[1]!.makeBlob({ store })).toEqual(png);
  });

  test('three columns, a BIGINT among them, paired from the left', async () => {
    const { Album, AlbumCover } = models;
    imageAttachment(Album, 'covers', AlbumCover, {
      foreignKey: 'albumId',
      multiple: true,
      objectId: pairObjectId('albumId', 'side', 'slot'),
    });
    const album = await Album.create();
    const cover = await album.covers
      .getImageSet({ side: '4294967296123', slot: 2 })
      .fromBlob(png, { store });
    const expected = pairIntegers(pairIntegers(BigInt(album.id), 4294967296123n), 2n);
    expect(cover.objectId).toBe(expected);
    const [read] = await album.covers.images({ store });
    expect(read!.objectId).toBe(expected);
    expect(await listFiles(dir.path)).toEqual([
      `album-cover/${expected % 1000n}/${expected / 1000n}/${expected}.40x30.png`,
    ]);
  });
});

describe('pairObjectId and the objectId option', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await databaseKinds()[0]!.open();
  });
  afterAll(() => db?.close());

  test('a negative or missing key is an ObjectIdError naming the column', () => {
    const { AlbumCover } = defineModels(db.sequelize);
    const objectIdOf = pairObjectId('albumId', 'side', 'slot');
    expect(objectIdOf(AlbumCover.build({ albumId: 1, side: '2', slot: 3 }))).toBe(
      pairIntegers(pairIntegers(1n, 2n), 3n),
    );
    for (const [values, column] of [
      [{ albumId: -1, side: '2', slot: 3 }, 'albumId'],
      [{ albumId: 1, side: '-2', slot: 3 }, 'side'],
      [{ albumId: 1, side: '2' }, 'slot'],
      [{ albumId: 1.5, side: '2', slot: 3 }, 'albumId'],
    ] as const) {
      let error: unknown;
      try {
        objectIdOf(AlbumCover.build(values));
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'E_NO_OBJECT_ID' });
      expect((error as Error).message).toContain(column);
    }
    expect(() => pairObjectId('albumId')).toThrow(TypeError);
    expect(() => pairObjectId('albumId', '')).toThrow(TypeError);
  });

  test('without an objectId a composite key cannot be stored; the option is checked', () => {
    const { Album, AlbumCover } = defineModels(db.sequelize);
    expect(() => AlbumCover.build({ albumId: 1, side: '2', slot: 3 }).objectId).toThrow(
      expect.objectContaining({ code: 'E_NO_OBJECT_ID' }) as Error,
    );
    expect(() =>
      imageAttachment(Album, 'covers', AlbumCover, {
        foreignKey: 'albumId',
        objectId: 42 as never,
      }),
    ).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'objectId' }) as Error);
    const first = pairObjectId('albumId', 'side', 'slot');
    imageAttachment(Album, 'covers', AlbumCover, { foreignKey: 'albumId', objectId: first });
    // A second attachment of the same model may repeat it, not change it.
    imageAttachment(Album, 'backCovers', AlbumCover, { foreignKey: 'albumId', objectId: first });
    imageAttachment(Album, 'spines', AlbumCover, { foreignKey: 'albumId' });
    expect(() =>
      imageAttachment(Album, 'inlays', AlbumCover, {
        foreignKey: 'albumId',
        objectId: pairObjectId('slot', 'albumId'),
      }),
    ).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'objectId' }) as Error);
    // The model's objectIdOf is what every use of the model (migration, gc) sees.
    expect(AlbumCover.build({ albumId: 1, side: '2', slot: 3 }).objectId).toBe(
      pairIntegers(pairIntegers(1n, 2n), 3n),
    );
  });

  test('an objectIdOf that returns no bigint is an ObjectIdError', () => {
    const { AlbumCover } = defineModels(db.sequelize);
    AlbumCover.objectIdOf = () => 7 as unknown as bigint;
    expect(() => AlbumCover.build({ albumId: 1, side: '2', slot: 3 }).objectId).toThrow(
      expect.objectContaining({ code: 'E_NO_OBJECT_ID' }) as Error,
    );
  });
});
