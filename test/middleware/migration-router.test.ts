import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  FileSystemStore,
  InvalidOptionError,
  migrationRouter,
  type FileInput,
  type MigrationStatusJson,
} from '../../src/index.js';
import { validateImageKey } from '../../src/stores/keys.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { FRAMEWORKS } from '../support/frameworks.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineMigrationModels, seedCovers, type MigrationModels } from '../migration/models.js';

/** A real file-system store whose writes wait until `open()` (or until their input closes). */
class GateStore extends FileSystemStore {
  #open!: () => void;
  #gate = new Promise<void>((resolve) => (this.#open = resolve));

  release(): void {
    this.#open();
  }

  hold(): void {
    this.#gate = new Promise<void>((resolve) => (this.#open = resolve));
  }

  override async putFile(
    file: FileInput,
    ...rest: [string, bigint | number, number, number, string, boolean]
  ): Promise<void> {
    if (!(file instanceof Uint8Array)) await Promise.race([this.#gate, once(file, 'close')]);
    else await this.#gate;
    await super.putFile(file, ...rest);
  }
}

interface SseEvent {
  event: string;
  data: MigrationStatusJson | null;
}

/** Reads a Server-Sent Events stream with node:http, as a browser's EventSource would. */
function openEvents(url: string): Promise<{
  response: IncomingMessage;
  next: (event: string) => Promise<SseEvent>;
  seen: SseEvent[];
  close: () => void;
}> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { Accept: 'text/event-stream', 'x-admin': 'yes' } });
    req.on('error', reject);
    req.on('response', (response) => {
      const seen: SseEvent[] = [];
      const waiters: Array<{ event: string; from: number; resolve: (e: SseEvent) => void }> = [];
      let buffer = '';
      const check = () => {
        for (const waiter of [...waiters]) {
          const found = seen.slice(waiter.from).find((e) => e.event === waiter.event);
          if (found !== undefined) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(found);
          }
        }
      };
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n').filter((line) => !line.startsWith(':'));
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
          if (event !== undefined && data !== undefined) {
            seen.push({ event, data: JSON.parse(data) as MigrationStatusJson | null });
          }
        }
        check();
      });
      let cursor = 0;
      resolve({
        response,
        seen,
        next: (event) =>
          new Promise((resolveEvent) => {
            waiters.push({
              event,
              from: cursor,
              resolve: (e) => {
                cursor = seen.indexOf(e) + 1;
                resolveEvent(e);
              },
            });
            check();
          }),
        close: () => req.destroy(),
      });
    });
  });
}

describe('migrationRouter', () => {
  let db: TestDatabase;
  let models: MigrationModels;
  let dirs: Array<{ remove: () => Promise<void> }>;
  let disk: FileSystemStore;
  let copy: FileSystemStore;
  let gate: GateStore;
  let app: express.Express;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    db = await databaseKinds()[0]!.open();
    models = defineMigrationModels(db.sequelize);
    await db.sequelize.sync();
    const made = [
      await makeTempDir('router-disk'),
      await makeTempDir('router-copy'),
      await makeTempDir('router-gate'),
    ];
    dirs = made;
    disk = new FileSystemStore({ path: made[0]!.path, baseUrl: 'http://disk/' });
    copy = new FileSystemStore({ path: made[1]!.path, baseUrl: 'http://copy/' });
    gate = new GateStore({ path: made[2]!.path, baseUrl: 'http://gate/' });
    await seedCovers(models, disk);
    app = express();
    app.use(
      '/admin/migrations',
      migrationRouter({
        sequelize: db.sequelize,
        stores: { disk, copy, gate },
        authorize: (req) => req.headers['x-admin'] === 'yes',
        eventInterval: 0,
      }),
    );
    app.use((_req, res) => {
      res.status(404).json({ fellThrough: true });
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/migrations`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    for (const dir of dirs ?? []) await dir.remove();
    await db?.close();
  });
  beforeEach(() => {
    gate.hold();
  });

  const admin = () => request(server);
  const start = (body: object) =>
    admin()
      .post('/admin/migrations')
      .set('x-admin', 'yes')
      .set('Content-Type', 'application/json')
      .send(body);

  it('refuses to mount without authorize, naming the option', () => {
    const error = (() => {
      try {
        migrationRouter({ sequelize: db.sequelize, stores: { disk, copy } } as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('authorize');
    expect(() =>
      migrationRouter({ sequelize: db.sequelize, stores: { disk }, authorize: () => true }),
    ).toThrow(InvalidOptionError);
  });

  it('answers 403 to requests authorize refuses, and lets other paths through', async () => {
    const denied = await admin().get('/admin/migrations');
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { code: 'E_FORBIDDEN' } });
    const other = await admin().get('/admin/migrations/nothing').set('x-admin', 'yes');
    expect(other.body).toEqual({ fellThrough: true });
  });

  it('runs a migration and streams its progress to an event-stream client', async () => {
    const events = await openEvents(`${base}/events`);
    try {
      expect(events.response.headers['content-type']).toMatch(/^text\/event-stream/);
      await events.next('status');
      const started = await start({ from: 'disk', to: 'copy', verify: true });
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({
        migration: { state: 'running', from: 'disk', to: 'copy' },
      });
      const end = await events.next('end');
      expect(end.data).toMatchObject({
        state: 'succeeded',
        total: 10,
        done: 10,
        migrated: 10,
        failed: 0,
      });
      const progress = events.seen.filter((e) => e.event === 'progress').map((e) => e.data!.done);
      expect(progress).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      expect(events.seen.some((e) => e.event === 'start' && e.data?.total === 10)).toBe(true);
    } finally {
      events.close();
    }
    const status = await admin().get('/admin/migrations').set('x-admin', 'yes');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      stores: ['disk', 'copy', 'gate'],
      migration: { state: 'succeeded', done: 10 },
    });
    const image = (await models.SomethingCover.findOne({ where: { original: true } }))!;
    const key = validateImageKey(
      image.objectType,
      image.objectId,
      image.width,
      image.height,
      image.mimetype,
    );
    expect((await readFile(copy.filePath(key))).equals(await readFile(disk.filePath(key)))).toBe(
      true,
    );
  });

  it('runs one migration at a time, and cancels it', async () => {
    const events = await openEvents(`${base}/events`);
    try {
      expect((await start({ from: 'disk', to: 'gate' })).status).toBe(202);
      const second = await start({ from: 'disk', to: 'copy' });
      expect(second.status).toBe(409);
      expect(second.body).toMatchObject({ error: { code: 'E_MIGRATION_RUNNING' } });
      const cancelled = await admin()
        .post('/admin/migrations/cancel')
        .set('x-admin', 'yes')
        .set('Content-Type', 'application/json');
      expect(cancelled.status).toBe(202);
      const end = await events.next('end');
      expect(end.data).toMatchObject({ state: 'cancelled', from: 'disk', to: 'gate' });
      expect(end.data!.done).toBeLessThan(10);
      gate.release();
      expect((await start({ from: 'disk', to: 'gate', skipExisting: true })).status).toBe(202);
      expect((await events.next('end')).data).toMatchObject({ state: 'succeeded', done: 10 });
    } finally {
      gate.release();
      events.close();
    }
  });

  it('reports failed images with their cause', async () => {
    const image = (await models.SamethingCover.findOne({ where: { original: false } }))!;
    const bytes = await image.makeBlob({ store: disk });
    await disk.delete(image);
    const events = await openEvents(`${base}/events`);
    try {
      expect((await start({ from: 'disk', to: 'copy' })).status).toBe(202);
      const end = await events.next('end');
      expect(end.data).toMatchObject({ state: 'failed', failed: 1, migrated: 9 });
      expect(end.data!.failures).toEqual([
        expect.objectContaining({
          objectType: 'samething-cover',
          objectId: String(image.objectId),
          width: image.width,
          code: 'ENOENT',
        }),
      ]);
    } finally {
      events.close();
      await disk.store(image, bytes);
    }
  });

  it('refuses bad requests with a coded error', async () => {
    const form = await admin()
      .post('/admin/migrations')
      .set('x-admin', 'yes')
      .type('form')
      .send({ from: 'disk', to: 'copy' });
    expect(form.status).toBe(415);
    for (const body of [
      { from: 'disk', to: 'nowhere' },
      { from: 'disk', to: 'disk' },
      { from: 'disk', to: 'copy', extra: 1 },
      { from: 'disk', to: 'copy', verify: 'md5' },
      { from: 'disk', to: 'copy', concurrency: 0 },
    ]) {
      const response = await start(body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'E_INVALID_BODY' } });
    }
    const idle = await admin()
      .post('/admin/migrations/cancel')
      .set('x-admin', 'yes')
      .set('Content-Type', 'application/json');
    expect(idle.status).toBe(409);
  });

  it.each(FRAMEWORKS.map((framework) => [framework.name, framework] as const))(
    'mounts under %s, with or without a JSON body parser',
    async (_name, framework) => {
      const router = migrationRouter({
        sequelize: db.sequelize,
        stores: { disk, copy },
        authorize: () => true,
      });
      const plain = framework.create().use('/m', router);
      const status = await request(plain.listener).get('/m');
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({ stores: ['disk', 'copy'] });
      const parsed = framework.create().use(framework.json()).use('/m', router);
      const bad = await request(parsed.listener).post('/m').send({ from: 'disk', to: 'disk' });
      expect(bad.status).toBe(400);
    },
  );
});
