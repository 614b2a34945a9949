/**
 * Thumbnails later in several formats: `attachImage({ thumbnails, formats, later })` and
 * `set.generateThumbnailsLater(sizes, { formats })` carry the formats in the job, the worker
 * makes each size in each format through `generateThumbnails` (so what exists is kept), and
 * `res.locals.image.thumbnails` lists each pending size in each format. With pg-boss workers
 * on PostgreSQL, and in-process on SQLite.
 */
import { rm } from 'node:fs/promises';
import express from 'express';
import type PgBoss from 'pg-boss';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Image } from '../../src/index.js';
import {
  attachedImage,
  attachImage,
  FileSystemStore,
  uploadImage,
  type Store,
} from '../../src/index.js';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';
import { jpeg405x640 } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { testBoss } from './boss-fixture.js';
import { defineFormatModels } from '../models/format-models.js';

const modes = databaseKinds().flatMap((kind) => [
  ...(kind.name === 'sqlite' ? [{ name: 'sqlite, in-process', kind, boss: false }] : []),
  ...(kind.name === 'postgres' ? [{ name: 'postgres, pg-boss', kind, boss: true }] : []),
]);

const imagesOf = (images: readonly Image[]) =>
  images.map((image) => `${image.width}x${image.height} ${image.mimetype}`).sort();

describe.each(modes)('thumbnails later in several formats ($name)', (mode) => {
  let db: TestDatabase;
  let models: ReturnType<typeof defineFormatModels>;
  let boss: PgBoss | undefined;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let store: Store;
  let jobs: ImageJobs;

  beforeAll(async () => {
    db = await mode.kind.open();
    models = defineFormatModels(db.sequelize);
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
    dir = await makeTempDir('imageattach-later-formats');
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

  async function storedFiles(): Promise<string[]> {
    const names: string[] = [];
    for await (const file of store.listFiles!()) names.push(file.name);
    return names;
  }

  test('attachImage lists each size in each format as pending, and the worker makes them', async () => {
    const app = express();
    app.post(
      '/members/:id/avatar',
      uploadImage({ field: 'avatar' }),
      attachImage({
        to: async (req) => (await models.Member.findByPk(req.params.id))?.avatar,
        thumbnails: [{ width: 100 }],
        formats: ['webp'],
        store,
        later: jobs,
      }),
      (req, res) => {
        res.json(attachedImage(res));
      },
    );
    const member = await models.Member.create();
    const res = await request(app)
      .post(`/members/${member.id}/avatar`)
      .attach('avatar', (await jpeg405x640()).bytes, 'photo.jpg');
    expect(res.status).toBe(200);
    const body = res.body as { url: string; thumbnails: Array<Record<string, unknown>> };
    expect(
      body.thumbnails.map(({ width, height, mimetype, pending, url }) => ({
        width,
        height,
        mimetype,
        pending,
        url,
      })),
    ).toEqual([
      { width: 100, height: 158, mimetype: 'image/jpeg', pending: true, url: body.url },
      { width: 100, height: 158, mimetype: 'image/webp', pending: true, url: body.url },
    ]);

    await settle();
    const images = await member.avatar.images();
    expect(imagesOf(images)).toEqual([
      '100x158 image/jpeg',
      '100x158 image/webp',
      '405x640 image/jpeg',
    ]);
    for (const image of images) {
      const meta = await sharp(await image.makeBlob({ store })).metadata();
      expect([meta.width, meta.height, `image/${meta.format}`]).toEqual([
        image.width,
        image.height,
        image.mimetype,
      ]);
    }
    expect(await storedFiles()).toHaveLength(3);
  });

  test('generateThumbnailsLater with formats is idempotent: what exists is kept', async () => {
    const member = await models.Member.create();
    await member.avatar.fromBlob((await jpeg405x640()).bytes, { store });
    await member.avatar.generateThumbnail({ width: 100 }, { store });
    const first = await member.avatar.generateThumbnails([{ width: 100 }], { store });
    const boxes = await member.avatar.generateThumbnailsLater([{ width: 100 }, { width: 50 }], {
      formats: ['webp', 'png'],
    });
    expect(boxes.map(({ width, height, mimetype }) => `${width}x${height} ${mimetype}`)).toEqual([
      '100x158 image/jpeg',
      '100x158 image/webp',
      '100x158 image/png',
      '50x79 image/jpeg',
      '50x79 image/webp',
      '50x79 image/png',
    ]);
    // The same job twice: the second finds every size and format made.
    await member.avatar.generateThumbnailsLater([{ width: 100 }, { width: 50 }], {
      formats: ['webp', 'png'],
    });
    await settle();
    const images = await member.avatar.images();
    expect(imagesOf(images)).toEqual([
      '100x158 image/jpeg',
      '100x158 image/png',
      '100x158 image/webp',
      '405x640 image/jpeg',
      '50x79 image/jpeg',
      '50x79 image/png',
      '50x79 image/webp',
    ]);
    // The JPEG made before the jobs is the same row and file.
    const kept = images.find((image) => image.width === 100 && image.mimetype === 'image/jpeg');
    expect(kept?.createdAt.getTime()).toBe(first[0]!.createdAt.getTime());
    expect(await storedFiles()).toHaveLength(images.length);
  });

  test('formats a model cannot hold are refused at the call, and nothing is sent', async () => {
    const member = await models.Member.create();
    await member.legacy.fromBlob((await jpeg405x640()).bytes, { store });
    await expect(
      member.legacy.generateThumbnailsLater([{ width: 100 }], { formats: ['webp'] }),
    ).rejects.toMatchObject({ code: 'E_INVALID_OPTION', option: 'formats' });
    await expect(
      member.avatar.generateThumbnailsLater([{ width: 100 }], { formats: ['bmp' as never] }),
    ).rejects.toMatchObject({ code: 'E_INVALID_OPTION', option: 'formats' });
    await settle();
    expect(await member.legacy.count()).toBe(1);
  });
});
