/**
 * `migrationRouter({ jobs })`: a start splits the migration into range jobs that workers run
 * (in this process here, with `jobs.work()`), its JSON and event stream show the whole
 * migration from the rows, and a second start of the same stores is refused while it runs
 * (PostgreSQL, when DATABASE_URL is set).
 */
import { once } from 'node:events';
import { get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type PgBoss from 'pg-boss';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileSystemStore,
  InvalidOptionError,
  migrationRouter,
  type DistributedMigrationStatusJson,
  type ListedFile,
} from '../../src/index.js';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineMigrationModels, seedCovers } from '../migration/models.js';
import { testBoss } from './boss-fixture.js';

const postgres = databaseKinds().filter((kind) => kind.name === 'postgres');

interface SseEvent {
  event: string;
  data: DistributedMigrationStatusJson | null;
}

/** Reads an event stream until an event named `until` comes, then closes it. */
function readEventsUntil(url: string, until: string): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { Accept: 'text/event-stream', 'x-admin': 'yes' } });
    req.on('error', reject);
    req.on('response', (response) => {
      const seen: SseEvent[] = [];
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const lines = buffer.slice(0, end).split('\n');
          buffer = buffer.slice(end + 2);
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
          if (event === undefined || data === undefined) continue;
          seen.push({ event, data: JSON.parse(data) as SseEvent['data'] });
          if (event === until) {
            req.destroy();
            resolve(seen);
          }
        }
      });
    });
  });
}

async function listAll(store: FileSystemStore): Promise<ListedFile[]> {
  const files: ListedFile[] = [];
  for await (const file of store.listFiles()) files.push(file);
  return files;
}

describe.runIf(postgres.length > 0)('migrationRouter({ jobs })', () => {
  let db: TestDatabase;
  let boss: PgBoss;
  let jobs: ImageJobs;
  let dirs: Array<{ path: string; remove: () => Promise<void> }>;
  let disk: FileSystemStore;
  let copy: FileSystemStore;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    db = await postgres[0]!.open();
    const models = defineMigrationModels(db.sequelize);
    await db.sequelize.sync();
    dirs = [await makeTempDir('router-jobs-disk'), await makeTempDir('router-jobs-copy')];
    disk = new FileSystemStore({ path: dirs[0]!.path, baseUrl: 'http://disk/' });
    copy = new FileSystemStore({ path: dirs[1]!.path, baseUrl: 'http://copy/' });
    await seedCovers(models, disk);
    boss = testBoss(db.sequelize);
    jobs = imageJobs({ boss, sequelize: db.sequelize, store: disk, retryDelay: 0 });
    const app = express();
    app.use(
      '/admin/migrations',
      migrationRouter({
        sequelize: db.sequelize,
        stores: { disk, copy },
        authorize: (req) => req.headers['x-admin'] === 'yes',
        eventInterval: 50,
        jobs,
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/migrations`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await jobs?.stop();
    await boss?.stop({ graceful: false });
    await db?.close();
    for (const dir of dirs ?? []) await dir.remove();
  });

  interface Answer {
    status: number;
    body: { migration: DistributedMigrationStatusJson; error?: { code: string } };
  }
  const post = async (path: string, body: object): Promise<Answer> =>
    await request(server)
      .post(`/admin/migrations${path}`)
      .set('x-admin', 'yes')
      .set('Content-Type', 'application/json')
      .send(body);
  const show = async (): Promise<Answer> =>
    await request(server).get('/admin/migrations').set('x-admin', 'yes');

  it('refuses jobs of another Sequelize, naming the option', () => {
    const other = { send: () => Promise.resolve(), sequelize: {} } as unknown as ImageJobs;
    const error = (() => {
      try {
        migrationRouter({
          sequelize: db.sequelize,
          stores: { disk, copy },
          authorize: () => true,
          jobs: other,
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('jobs');
  });

  it('refuses a second start of a running migration, and cancels it', async () => {
    // No worker yet: the migration stays running.
    const started = await post('', { from: 'disk', to: 'copy' });
    expect(started.status).toBe(202);
    expect(started.body.migration).toMatchObject({
      distributed: true,
      state: 'running',
      from: 'disk',
      to: 'copy',
      total: 10,
      done: 0,
      ranges: 2,
    });
    const again = await post('', { from: 'disk', to: 'copy' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'E_MIGRATION_RUNNING' } });

    const shown = await show();
    expect(shown.body.migration).toMatchObject({
      id: started.body.migration.id,
      state: 'running',
    });

    const cancelled = await post('/cancel', {});
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.migration).toMatchObject({
      id: started.body.migration.id,
      state: 'cancelled',
    });
    const none = await post('/cancel', {});
    expect(none.status).toBe(409);
    expect(none.body).toMatchObject({ error: { code: 'E_NO_MIGRATION' } });
  });

  it('streams the whole migration across workers to its end', async () => {
    const events = readEventsUntil(`${base}/events`, 'end');
    const started = await post('', { from: 'disk', to: 'copy', verify: true });
    expect(started.status).toBe(202);
    await jobs.work({ concurrency: 2, pollIntervalMs: 50 });
    const seen = await events;
    expect(seen[0]!.event).toBe('status');
    const end = seen.at(-1)!.data!;
    expect(end).toMatchObject({
      id: started.body.migration.id,
      state: 'succeeded',
      total: 10,
      done: 10,
      migrated: 10,
      failed: 0,
      percent: 100,
      rangesDone: 2,
    });
    expect(end.workersAlive).toBeGreaterThanOrEqual(1);
    const keys = (files: ListedFile[]) => files.map((file) => file.key).sort();
    expect(keys(await listAll(copy))).toEqual(keys(await listAll(disk)));

    const shown = await show();
    expect(shown.body.migration).toMatchObject({ id: end.id, state: 'succeeded' });
  });
});
