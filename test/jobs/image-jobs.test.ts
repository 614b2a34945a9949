/**
 * `imageJobs` on pg-boss: thumbnails sent inside the row's transaction, made by workers through
 * `generateThumbnails`, retried, and dead-lettered with their error (PostgreSQL, when
 * DATABASE_URL is set).
 */
import { rm } from 'node:fs/promises';
import type PgBoss from 'pg-boss';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FileSystemStore, storeContext, ThumbnailNotFoundError } from '../../src/index.js';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';
import { jpeg405x640 } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';
import { FailingStore } from '../models/failing-store.js';
import { testBoss } from './boss-fixture.js';

const postgres = databaseKinds().filter((kind) => kind.name === 'postgres');

class Rollback extends Error {}

describe.runIf(postgres.length > 0)('imageJobs on pg-boss', () => {
  let db: TestDatabase;
  let models: Models;
  let boss: PgBoss;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let store: FailingStore;
  let jobs: ImageJobs;

  beforeAll(async () => {
    db = await postgres[0]!.open();
    models = defineModels(db.sequelize);
    boss = testBoss(db.sequelize);
    await boss.start();
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
    await db?.close();
  });
  beforeEach(async () => {
    await db.reset();
    dir = await makeTempDir('imageattach-jobs');
    store = new FailingStore(new FileSystemStore({ path: dir.path, baseUrl: 'http://x/' }));
    jobs = imageJobs({ boss, sequelize: db.sequelize, store, retryDelay: 0, retryLimit: 1 });
    await jobs.ready();
    await boss.purgeQueue(jobs.queueName('thumbnails'));
    await boss.purgeQueue(jobs.deadLetterQueueName('thumbnails'));
  });
  afterEach(async () => {
    await jobs.stop();
    await rm(dir.path, { recursive: true, force: true });
  });

  const puts = () => store.calls.filter((call) => call.operation === 'putFile').map((c) => c.key);
  const queued = () => boss.getQueueSize(jobs.queueName('thumbnails'));

  async function userWithPicture() {
    const user = await models.User.create();
    await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
    return user;
  }

  /** Runs one worker until the queue has nothing left to start, then stops it. */
  async function drain() {
    await jobs.work({ concurrency: 2, pollIntervalMs: 20 });
    for (;;) {
      const left = await boss.getQueueSize(jobs.queueName('thumbnails'), { before: 'completed' });
      if (left === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await jobs.stop();
  }

  test('a committed job is seen with the row, and a worker makes its sizes', async () => {
    const user = await userWithPicture();
    const boxes = await db.sequelize.transaction(async (transaction) => {
      const result = await user.picture.generateThumbnailsLater([{ width: 100 }, { width: 50 }], {
        transaction,
      });
      // Not visible outside the transaction yet.
      expect(await queued()).toBe(0);
      return result;
    });
    expect(boxes).toEqual([
      { width: 100, height: 158, mimetype: 'image/jpeg' },
      { width: 50, height: 79, mimetype: 'image/jpeg' },
    ]);
    expect(await queued()).toBe(1);
    await drain();
    const images = await user.picture.images();
    expect(images.map((image) => [image.width, image.height])).toEqual([
      [405, 640],
      [50, 79],
      [100, 158],
    ]);
    const thumbnail = await user.picture.findThumbnail({ width: 100 }, { store });
    const meta = await sharp(await thumbnail.makeBlob({ store })).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 100, 158]);
  });

  test('a rolled-back transaction enqueues nothing', async () => {
    const user = await models.User.create();
    await expect(
      db.sequelize.transaction(async (transaction) => {
        await user.picture.fromBlob((await jpeg405x640()).bytes, { store, transaction });
        await user.picture.generateThumbnailsLater([{ width: 100 }], { transaction });
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    expect(await queued()).toBe(0);
  });

  test('a rolled-back savepoint drops its job, the rest of the transaction keeps its own', async () => {
    const user = await userWithPicture();
    const other = await userWithPicture();
    await db.sequelize.transaction(async (transaction) => {
      await user.picture.generateThumbnailsLater([{ width: 100 }], { transaction });
      await expect(
        db.sequelize.transaction({ transaction }, async (savepoint) => {
          await other.picture.generateThumbnailsLater([{ width: 100 }], { transaction: savepoint });
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
    });
    expect(await queued()).toBe(1);
    await drain();
    expect(await user.picture.count()).toBe(2);
    expect(await other.picture.count()).toBe(1);
  });

  test('a job for a set deleted before the worker ran writes no file', async () => {
    const user = await userWithPicture();
    const gone = await userWithPicture();
    await gone.picture.generateThumbnailsLater([{ width: 100 }]);
    const originalGone = await userWithPicture();
    await originalGone.picture.generateThumbnailsLater([{ width: 100 }]);
    await user.picture.generateThumbnailsLater([{ width: 100 }]);
    await storeContext(store, () => gone.destroy()); // the parent row, and its images
    await (await originalGone.picture.requireOriginal()).destroy({ imageStore: store });
    const before = puts().length;
    await drain();
    // One thumbnail written, the living user's.
    expect(puts().slice(before)).toHaveLength(1);
    expect(await originalGone.picture.count()).toBe(0);
    expect(await user.picture.count()).toBe(2);
    expect(await boss.getQueueSize(jobs.deadLetterQueueName('thumbnails'))).toBe(0);
  });

  test('a size that exists is a no-op: a second job writes nothing', async () => {
    const user = await userWithPicture();
    await user.picture.generateThumbnailsLater([{ width: 100 }]);
    await user.picture.generateThumbnailsLater([{ width: 100 }]);
    await drain();
    expect(await user.picture.count()).toBe(2);
    expect(puts().filter((key) => key.includes('100x158'))).toHaveLength(1);
  });

  test('a job that fails every retry lands in the dead-letter queue with its error', async () => {
    const user = await userWithPicture();
    await user.picture.generateThumbnailsLater([{ width: 100 }]);
    store.failPuts = true;
    await drain();
    expect(await user.picture.count()).toBe(1);
    const [dead] = await boss.fetch<{ set: { key: number } }>(
      jobs.deadLetterQueueName('thumbnails'),
      { includeMetadata: true },
    );
    expect(dead?.data.set.key).toBe(user.id);
    const output = dead?.output as { name?: unknown; message?: unknown } | undefined;
    expect(output?.name).toBe('InjectedFault');
    expect(typeof output?.message).toBe('string');
  });

  test('findThumbnail falls back to the nearest larger image until the size exists', async () => {
    const user = await userWithPicture();
    await user.picture.generateThumbnail({ width: 200 }, { store });
    await user.picture.generateThumbnailsLater([{ width: 100 }]);
    await expect(user.picture.findThumbnail({ width: 100 })).rejects.toBeInstanceOf(
      ThumbnailNotFoundError,
    );
    const fallback = await user.picture.findThumbnail({ width: 100 }, { fallback: 'larger' });
    expect([fallback.width, fallback.original]).toEqual([200, false]);
    await drain();
    const exact = await user.picture.findThumbnail({ width: 100 }, { fallback: 'larger' });
    expect(exact.width).toBe(100);
  });
});
