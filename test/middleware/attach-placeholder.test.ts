/**
 * Placeholders filled at upload: `attachImage` and `directUploads` store the ThumbHash of the
 * original on a model with a `placeholder` column, decoded before the write transaction begins
 * (on SQLite the transaction is the database's one write turn: no decode may hold it), and
 * decode nothing for it on a model without one.
 */
import express from 'express';
import type { Sequelize } from 'sequelize';
import sharp from 'sharp';
import request from 'supertest';
import { thumbHashToAverageRGBA } from 'thumbhash';
import {
  afterAll,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  vi,
  type MockInstance,
} from 'vitest';
import { attachImage, FileSystemStore, uploadImage } from '../../src/index.js';
import { thumbHashOf } from '../../src/images/placeholder.js';
import { defineSingleImageModels } from '../models/single-image-models.js';
import { directFixture, uploadDirectly, type DirectFixture } from '../direct/direct-fixture.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';

// Every ThumbHash decode, in the order of every other mock's calls.
vi.mock('../../src/images/placeholder.js', async (importOriginal) => {
  const real: { thumbHashOf: typeof thumbHashOf } = await importOriginal();
  return { ...real, thumbHashOf: vi.fn(real.thumbHashOf) };
});
const hashes = vi.mocked(thumbHashOf);

/** Galleries with a cover: a placeholder column, sizes in one format. */
const defineGalleryModels = (sequelize: Sequelize) => ({
  Gallery: defineSingleImageModels(
    sequelize,
    { parent: 'Gallery', parentTable: 'galleries', set: 'cover' },
    { placeholder: true },
  ).Parent,
});

/** A red JPEG. */
const red = () =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 220, g: 20, b: 20 } } })
    .jpeg()
    .toBuffer();

/** The placeholder is a ThumbHash of a red image. */
function expectRedHash(placeholder: string | null | undefined): void {
  expect(placeholder).toMatch(/^[A-Za-z0-9+/]+=*$/);
  const { r, g, b } = thumbHashToAverageRGBA(Buffer.from(placeholder!, 'base64'));
  expect(r).toBeGreaterThan(0.7);
  expect(g).toBeLessThan(0.2);
  expect(b).toBeLessThan(0.2);
}

/** Whether every ThumbHash decode came before the last transaction began. */
function hashedBeforeTransaction(transactions: MockInstance): boolean {
  const lastTransaction = Math.max(...transactions.mock.invocationCallOrder);
  return hashes.mock.invocationCallOrder.every((order) => order < lastTransaction);
}

describe('placeholders filled at upload, before the write transaction', () => {
  let db: TestDatabase;
  let fixture: DirectFixture;
  let target: InstanceType<ReturnType<typeof defineGalleryModels>['Gallery']>;
  let gallery: ReturnType<typeof defineGalleryModels>;
  let dir: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;
  let transactions: MockInstance;

  beforeAll(async () => {
    db = await databaseKinds()[0]!.open();
    gallery = defineGalleryModels(db.sequelize);
    // The users' pictures (no placeholder), the tables, and directUploads for `target`.
    fixture = await directFixture(db, { to: () => target.cover });
    dir = await makeTempDir('attach-placeholder');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' });
  });
  afterAll(async () => {
    await fixture?.close();
    await db?.close();
    await dir?.remove();
  });
  beforeEach(() => {
    hashes.mockClear();
    transactions?.mockRestore();
    transactions = vi.spyOn(db.sequelize, 'transaction');
  });

  function appAttachingTo(set: () => unknown) {
    const app = express();
    app.post(
      '/upload',
      uploadImage({ field: 'photo', tmpDir: dir.path }),
      attachImage({
        to: set as never,
        store,
        thumbnails: [{ width: 16 }],
      }),
      (_req, res) => {
        res.json({ ok: true });
      },
    );
    return app;
  }

  it('attachImage stores the ThumbHash of the original, decoded before its transaction', async () => {
    const created = await gallery.Gallery.create();
    const app = appAttachingTo(() => created.cover);
    const res = await request(app)
      .post('/upload')
      .attach('photo', await red(), 'red.jpg');
    expect(res.status).toBe(200);
    const original = await created.cover.original();
    expectRedHash(original!.placeholder);
    expect((await created.cover.findThumbnail({ width: 16 }, { store })).placeholder).toBeNull();
    expect(hashes).toHaveBeenCalledTimes(1);
    expect(transactions).toHaveBeenCalled();
    expect(hashedBeforeTransaction(transactions)).toBe(true);
  });

  it('attachImage decodes nothing for a model without a placeholder column', async () => {
    const user = await fixture.models.User.create();
    const app = appAttachingTo(() => user.picture);
    const res = await request(app)
      .post('/upload')
      .attach('photo', await red(), 'red.jpg');
    expect(res.status).toBe(200);
    expect(await user.picture.count()).toBe(2);
    expect(hashes).not.toHaveBeenCalled();
  });

  it('directUploads stores the ThumbHash of the checked original, decoded before its transaction', async () => {
    target = await gallery.Gallery.create();
    const res = await uploadDirectly(fixture, 1, await red());
    expect(res.status).toBe(200);
    const original = await target.cover.original();
    expectRedHash(original!.placeholder);
    expect(hashes).toHaveBeenCalledTimes(1);
    expect(hashedBeforeTransaction(transactions)).toBe(true);
  });
});
