/**
 * `attachImage({ later })` end to end: the upload answers with its thumbnails pending, and they
 * are made afterwards by a worker (PostgreSQL with pg-boss) or in the same process after the
 * commit (SQLite always, MySQL/MariaDB with MYSQL_URL, and PostgreSQL without a boss).
 */
import { rm } from 'node:fs/promises';
import express from 'express';
import type PgBoss from 'pg-boss';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  attachedImage,
  attachImage,
  FileSystemStore,
  storeContext,
  uploadImage,
  type Store,
} from '../../src/index.js';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';
import { jpeg405x640 } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';
import { testBoss } from './boss-fixture.js';

const THUMBNAILS = [{ width: 100 }, { height: 40 }];

interface Answer {
  url: string;
  width: number;
  thumbnails: Array<{ url: string; width: number; height: number; pending?: boolean }>;
}

const modes = databaseKinds().flatMap((kind) => [
  { name: `${kind.name}, in-process`, kind, boss: false },
  ...(kind.name === 'postgres' ? [{ name: 'postgres, pg-boss', kind, boss: true }] : []),
]);

describe.each(modes)('attachImage({ later }) on $name', (mode) => {
  let db: TestDatabase;
  let models: Models;
  let boss: PgBoss | undefined;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let store: Store;
  let jobs: ImageJobs;

  beforeAll(async () => {
    db = await mode.kind.open();
    models = defineModels(db.sequelize);
    if (mode.boss) {
      boss = testBoss(db.sequelize);
      await boss.start();
    }
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
    await db?.close();
  });
  beforeEach(async () => {
    await db.reset();
    dir = await makeTempDir('imageattach-later');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://img.example/' });
    jobs = imageJobs({ boss, sequelize: db.sequelize, store });
    if (boss !== undefined) {
      await jobs.ready();
      await boss.purgeQueue(jobs.queueName('thumbnails'));
    }
  });
  afterEach(async () => {
    await jobs.stop();
    await rm(dir.path, { recursive: true, force: true });
  });

  function app() {
    const server = express();
    server.post(
      '/users/:id/picture',
      uploadImage({ field: 'picture' }),
      attachImage({
        to: async (req) => (await models.User.findByPk(req.params.id))?.picture,
        thumbnails: THUMBNAILS,
        store,
        later: jobs,
      }),
      (req, res) => {
        res.json(attachedImage(res));
      },
    );
    return server;
  }

  /** Until every job sent so far has run. */
  async function settle() {
    if (boss === undefined) {
      await jobs.onIdle();
      return;
    }
    await jobs.work({ concurrency: 2, pollIntervalMs: 20 });
    while ((await boss.getQueueSize(jobs.queueName('thumbnails'), { before: 'completed' })) > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await jobs.stop();
  }

  test('answers with the thumbnails pending, and they are made after the commit', async () => {
    const user = await models.User.create();
    const res = await request(app())
      .post(`/users/${user.id}/picture`)
      .attach('picture', (await jpeg405x640()).bytes, 'photo.jpg');
    expect(res.status).toBe(200);
    const body = res.body as Answer;
    expect(body.thumbnails).toEqual([
      { ...body.thumbnails[0], width: 100, height: 158, pending: true, url: body.url },
      { ...body.thumbnails[1], width: 25, height: 40, pending: true, url: body.url },
    ]);
    await settle();
    const images = await user.picture.images();
    expect(images.map((image) => `${image.width}x${image.height}`)).toEqual([
      '405x640',
      '25x40',
      '100x158',
    ]);
    for (const image of images) {
      const meta = await sharp(await image.makeBlob({ store })).metadata();
      expect([meta.width, meta.height]).toEqual([image.width, image.height]);
    }
  });

  test('a job of a set deleted before it ran writes no file', async () => {
    const user = await models.User.create();
    const gone = await models.User.create();
    await db.sequelize.transaction(async (transaction) => {
      await user.picture.fromBlob((await jpeg405x640()).bytes, { store, transaction });
      await user.picture.generateThumbnailsLater([{ width: 100 }], { transaction });
      await gone.picture.fromBlob((await jpeg405x640(1)).bytes, { store, transaction });
      await gone.picture.generateThumbnailsLater([{ width: 100 }], { transaction });
      // In-process, the jobs run after this commit; with pg-boss, when a worker fetches them.
      await storeContext(store, () => gone.destroy({ transaction }));
    });
    await settle();
    expect(await user.picture.count()).toBe(2);
    expect(await models.UserPicture.count()).toBe(2);
    const files: unknown[] = [];
    for await (const file of store.listFiles!()) files.push(file);
    expect(files).toHaveLength(2);
  });

  test('a rolled-back transaction runs and sends nothing', async () => {
    const user = await models.User.create();
    await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
    await expect(
      db.sequelize.transaction(async (transaction) => {
        await user.picture.generateThumbnailsLater([{ width: 100 }], { transaction });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await settle();
    expect(await user.picture.count()).toBe(1);
  });

  test('without an imageJobs for the Sequelize, generateThumbnailsLater says so', async () => {
    const user = await models.User.create();
    await user.picture.fromBlob((await jpeg405x640()).bytes, { store });
    await jobs.stop();
    await expect(user.picture.generateThumbnailsLater([{ width: 100 }])).rejects.toMatchObject({
      code: 'E_NO_JOBS',
    });
    jobs = imageJobs({ boss, sequelize: db.sequelize, store });
  });
});
