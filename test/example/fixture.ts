/**
 * The example app on a test database (SQLite, and PostgreSQL with DATABASE_URL) and a fresh
 * image folder, plus the images the tests upload.
 */
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Express } from 'express';
import sharp from 'sharp';
import { expect } from 'vitest';
import { storeFromUrl } from '../../src/index.js';
import { createApp } from '../../examples/express-app/app.js';
import { startWorker, type RunningWorker } from '../../examples/express-app/worker.js';
import { defineModels, type Models } from '../../examples/express-app/models.js';
import type { DatabaseKind, TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { testBoss, urlOf } from '../jobs/boss-fixture.js';

export interface ExampleApp {
  app: Express;
  /** The app listening on 127.0.0.1: one port for every request, so image URLs stay valid. */
  server: Server;
  models: Models;
  db: TestDatabase;
  /** The temporary folder: the store is its `images/`. */
  dir: string;
  imagesDir: string;
  /** With `worker` on PostgreSQL: the in-process worker, as `server.ts` starts it. */
  worker: RunningWorker | undefined;
  /** Resolves once the worker has no thumbnails job left (at once without a worker). */
  thumbnailsDone(): Promise<void>;
  close(): Promise<void>;
}

export async function openExampleApp(
  kind: DatabaseKind,
  options: { adminPassword?: string; worker?: boolean } = {},
): Promise<ExampleApp> {
  const db = await kind.open();
  const dir = await makeTempDir('example-app');
  const models = defineModels(db.sequelize);
  await db.sequelize.sync();
  const imagesDir = join(dir.path, 'images');
  const storeUrl = pathToFileURL(imagesDir).href;
  const store = await storeFromUrl(storeUrl);
  // As server.ts does on PostgreSQL: thumbnails and admin migrations on an in-process worker.
  const worker =
    options.worker === true && kind.name === 'postgres'
      ? await startWorker(db.sequelize, store, urlOf(db.sequelize))
      : undefined;
  const app = createApp({
    sequelize: db.sequelize,
    models,
    store,
    storeUrl,
    adminPassword: options.adminPassword,
    ...(worker === undefined ? {} : { jobs: worker.jobs }),
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    app,
    server,
    models,
    db,
    dir: dir.path,
    imagesDir,
    worker,
    thumbnailsDone: async () => {
      if (worker === undefined) return;
      const boss = testBoss(db.sequelize);
      await boss.start();
      try {
        const queue = worker.jobs.queueName('thumbnails');
        while ((await boss.getQueueSize(queue, { before: 'completed' })) > 0) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await boss.stop({ graceful: false });
      }
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await worker?.stop();
      await db.close();
      await dir.remove();
    },
  };
}

/** A noise JPEG: distinct sizes make distinct uploads. */
export function jpeg(width: number, height: number): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#6070a0',
      noise: { type: 'gaussian', mean: 128, sigma: 30 },
    },
  })
    .jpeg()
    .toBuffer();
}

/** Every file under a folder (relative paths), or `[]` when it does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The path and query of an absolute URL, for supertest. */
export const pathOf = (url: string) => {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
};

/** Asymmetric matchers, typed as the values they stand for. */
export const anyString = expect.any(String) as unknown as string;
export const anyNumber = expect.any(Number) as unknown as number;
