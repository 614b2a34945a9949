/**
 * `Image#locate` remembers the URL it made for a row and a store whose URLs are stable, and
 * makes a new one as soon as anything the URL is made from changes.
 */
import { DataTypes, Sequelize, type NonAttribute } from 'sequelize';
import { afterAll, describe, expect, test } from 'vitest';
import {
  FileSystemStore,
  HttpExposedFileSystemStore,
  Image,
  imageAttributes,
  MirrorStore,
} from '../../src/index.js';
import { S3Store } from '../../src/s3.js';

const sequelize = new Sequelize('sqlite::memory:', { logging: false });

class Avatar extends Image {
  declare userId: number;
}
Avatar.init(
  { userId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
  { sequelize, tableName: 'avatar' },
);

class Cover extends Image {
  declare bookId: number;
  declare edition: number;
  // Reads a column outside the primary key: locate() must never reuse a URL for it.
  override get objectId(): NonAttribute<bigint> {
    return BigInt(this.bookId) * 100n + BigInt(this.edition);
  }
}
Cover.init(
  {
    bookId: { type: DataTypes.INTEGER, primaryKey: true },
    edition: { type: DataTypes.INTEGER, allowNull: false },
    ...imageAttributes(),
  },
  { sequelize, tableName: 'cover' },
);

const createdAt = new Date(Date.UTC(2026, 10, 27, 12, 0, 0, 250));
const store = new FileSystemStore({ path: '/tmp/unused', baseUrl: 'https://img.example.com/' });

function avatar(userId = 1234): Avatar {
  return Avatar.build(
    { userId, width: 100, height: 80, mimetype: 'image/jpeg', original: true, createdAt },
    { isNewRecord: false, raw: true },
  );
}

afterAll(() => sequelize.close());

describe('Image#locate', () => {
  test('gives the store’s URL with the cache-buster, the same on every call', () => {
    const image = avatar();
    const expected =
      'https://img.example.com/avatar/234/1/1234.100x80.jpe?_ts=20261127120000250000';
    expect(image.locate({ store })).toBe(expected);
    expect(image.locate({ store })).toBe(expected);
    expect(image.locate({ store })).toBe(store.locate(image));
  });

  test('follows every change of a column the URL is made from', () => {
    const image = avatar();
    const first = image.locate({ store });
    image.set('createdAt', new Date(createdAt.getTime() + 1000));
    expect(image.locate({ store })).toContain('_ts=20261127120001250000');
    image.set('mimetype', 'image/png');
    expect(image.locate({ store })).toContain('1234.100x80.png');
    image.set('width', 50, { raw: true });
    expect(image.locate({ store })).toContain('1234.50x80.png');
    image.set('userId', 5, { raw: true });
    expect(image.locate({ store })).toContain('/avatar/5/0/5.50x80.png');
    expect(image.locate({ store })).not.toBe(first);
  });

  test('makes each store’s own URL', () => {
    const image = avatar();
    const other = new FileSystemStore({
      path: '/tmp/unused',
      baseUrl: 'https://cdn.example.net/x',
    });
    expect(image.locate({ store })).toMatch(/^https:\/\/img\.example\.com\//);
    expect(image.locate({ store: other })).toMatch(/^https:\/\/cdn\.example\.net\/x\//);
    expect(image.locate({ store })).toMatch(/^https:\/\/img\.example\.com\//);
    const mirror = new MirrorStore({ primary: other, mirrors: [store] });
    expect(mirror.urlsAreStable).toBe(true);
    expect(image.locate({ store: mirror })).toBe(image.locate({ store: other }));
  });

  test('remembers S3 URLs, which depend on the key alone', () => {
    const s3 = new S3Store({ bucket: 'photos', region: 'eu-west-1' });
    expect(s3.urlsAreStable).toBe(true);
    const image = avatar();
    const url = image.locate({ store: s3 });
    expect(url).toBe(s3.locate(image));
    expect(image.locate({ store: s3 })).toBe(url);
  });

  test('asks a store whose URLs depend on the request every time', () => {
    let host = 'http://one.example';
    const exposed = new HttpExposedFileSystemStore({
      path: '/tmp/unused',
      hostUrlGetter: () => host,
    });
    expect(exposed.urlsAreStable).toBe(false);
    const image = avatar();
    expect(image.locate({ store: exposed })).toMatch(/^http:\/\/one\.example\/images\//);
    host = 'http://two.example';
    expect(image.locate({ store: exposed })).toMatch(/^http:\/\/two\.example\/images\//);
  });

  test('never reuses a URL for a model that computes objectId its own way', () => {
    const cover = Cover.build(
      {
        bookId: 7,
        edition: 1,
        width: 10,
        height: 10,
        mimetype: 'image/png',
        original: true,
        createdAt,
      },
      { isNewRecord: false, raw: true },
    );
    expect(cover.locate({ store })).toContain('/cover/701/0/701.10x10.png');
    cover.set('edition', 2);
    expect(cover.locate({ store })).toContain('/cover/702/0/702.10x10.png');
  });
});
