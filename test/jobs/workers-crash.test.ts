/**
 * 300 uploads with their thumbnails made later by three `sequelize-imageattach worker`
 * processes, one of them SIGKILLed in the middle of a job: its job expires and another worker
 * makes it. In the end every size exists exactly once, its bytes decode, and gc finds no orphan
 * and no missing file (PostgreSQL, when DATABASE_URL is set).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import express from 'express';
import type PgBoss from 'pg-boss';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { attachedImage, attachImage, FileSystemStore, gc, uploadImage } from '../../src/index.js';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';
import { jpeg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';
import { testBoss, urlOf } from './boss-fixture.js';

const UPLOADS = 300;
const SIZES = [{ width: 40 }, { width: 20 }];
const postgres = databaseKinds().filter((kind) => kind.name === 'postgres');

interface Worker {
  child: ChildProcess;
  /** Its exit code (`null` when killed by a signal). */
  exited: Promise<number | null>;
  stderr: string;
  started: string[];
  completed: Set<string>;
  /** Resolves once the worker has started `n` jobs. */
  startedCount(n: number): Promise<void>;
}

describe.runIf(postgres.length > 0)('three workers, one killed mid-job', () => {
  let db: TestDatabase;
  let models: Models;
  let boss: PgBoss;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let store: FileSystemStore;
  let jobs: ImageJobs;
  const workers: Worker[] = [];

  beforeAll(async () => {
    db = await postgres[0]!.open();
    models = defineModels(db.sequelize);
    await db.reset();
    dir = await makeTempDir('imageattach-workers');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://img.example/' });
    // This process runs pg-boss's maintenance often, so a killed worker's job, expired after
    // a few seconds, comes back quickly.
    boss = testBoss(db.sequelize, { supervise: true, maintenanceIntervalSeconds: 1 });
    await boss.start();
    jobs = imageJobs({ boss, sequelize: db.sequelize, store, expireInSeconds: 4, retryDelay: 0 });
    await jobs.ready();
  });
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await jobs?.stop();
    await boss?.stop({ graceful: false });
    await db?.close();
    await dir?.remove();
  });

  function startWorker(): Worker {
    const storeUrl = `${pathToFileURL(dir.path).href}?baseUrl=http://img.example/`;
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'src/cli.ts', 'worker'],
        ...['--models', 'test/fixtures/jobs-app/models.ts', '--store', storeUrl],
        ...['--database', urlOf(db.sequelize), '--poll-interval', '50'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const worker: Worker = {
      child,
      exited: once(child, 'exit').then(([code]) => code as number | null),
      stderr: '',
      started: [],
      completed: new Set(),
      startedCount: (n) =>
        new Promise((resolve) => {
          const check = () => {
            if (worker.started.length < n) return;
            lines.off('line', check);
            resolve();
          };
          lines.on('line', check);
          check();
        }),
    };
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const [state, , id] = line.split(' ');
      if (state === 'started') worker.started.push(id!);
      if (state === 'completed') worker.completed.add(id!);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => (worker.stderr += text));
    workers.push(worker);
    return worker;
  }

  test('every size exists exactly once, decodes, and gc finds nothing wrong', async () => {
    const [killed] = [startWorker(), startWorker(), startWorker()];
    const app = express();
    app.post(
      '/users/:id/picture',
      uploadImage({ field: 'picture' }),
      attachImage({
        to: async (req) => (await models.User.findByPk(req.params.id))?.picture,
        thumbnails: SIZES,
        store,
        later: jobs,
      }),
      (req, res) => {
        res.json(attachedImage(res));
      },
    );
    const killing = killed.startedCount(10).then(() => {
      // Between its "started" line and its "completed" one: in the middle of a job.
      killed.child.kill('SIGKILL');
      return killed.started.at(-1)!;
    });
    const bytes = (await jpeg(120, 80)).bytes;
    const users = [];
    for (let i = 0; i < UPLOADS; i++) {
      const user = await models.User.create();
      const res = await request(app)
        .post(`/users/${user.id}/picture`)
        .attach('picture', bytes, 'photo.jpg');
      expect(res.status).toBe(200);
      users.push(user);
    }
    const interrupted = await killing;
    expect(killed.completed.has(interrupted)).toBe(false);
    expect(await killed.exited).toBe(null);

    // Until every job has completed (the interrupted one after its expiry and a retry).
    const queue = jobs.queueName('thumbnails');
    while ((await boss.getQueueSize(queue, { before: 'completed' })) > 0) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const redone = await boss.getJobById(queue, interrupted);
    expect(redone?.state).toBe('completed');
    expect(redone?.retryCount).toBeGreaterThanOrEqual(1);
    expect(await boss.getQueueSize(jobs.deadLetterQueueName('thumbnails'))).toBe(0);

    for (const worker of workers.slice(1)) worker.child.kill('SIGTERM');
    const codes = await Promise.all(workers.slice(1).map((worker) => worker.exited));
    expect(codes, workers.map((worker) => worker.stderr).join('\n')).toEqual([0, 0]);
    // Each said first which store and database it would write to.
    for (const worker of workers) {
      const [first] = worker.stderr.split('\n');
      expect(
        first?.startsWith(`Working on the folder ${dir.path} for the postgres database `),
        first,
      ).toBe(true);
    }

    const rows = await models.UserPicture.findAll();
    expect(rows).toHaveLength(UPLOADS * 3);
    const sizes = new Map<string, number>();
    for (const row of rows) {
      const key = `${row.userId} ${row.width}x${row.height}`;
      sizes.set(key, (sizes.get(key) ?? 0) + 1);
    }
    expect(sizes.size).toBe(UPLOADS * 3);
    for (const user of users) {
      expect(sizes.get(`${user.id} 40x26`)).toBe(1);
      expect(sizes.get(`${user.id} 20x13`)).toBe(1);
    }
    for (const row of rows.filter((image) => !image.original)) {
      const meta = await sharp(await row.makeBlob({ store })).metadata();
      expect([meta.width, meta.height]).toEqual([row.width, row.height]);
    }
    const report = await gc({ store, models: db.sequelize });
    expect(report.rows).toBe(UPLOADS * 3);
    expect(report.orphans).toEqual([]);
    expect(report.missing).toEqual([]);
    expect(report.unknown).toEqual([]);
  }, 600_000);
});
