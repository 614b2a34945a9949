/**
 * The example app's admin: disabled without ADMIN_PASSWORD, Basic auth with it, store counts,
 * adding a store, a migration through the library's router (JSON and Server-Sent Events), and
 * switching the app to the new store, after which every image is served from it.
 */
import { stat, rm } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/database.js';
import { anyString, jpeg, listFiles, openExampleApp, pathOf, type ExampleApp } from './fixture.js';

const PASSWORD = 'correct horse';

describe.each(databaseKinds())('example app admin on $name', (kind) => {
  describe('without ADMIN_PASSWORD', () => {
    let example: ExampleApp;
    beforeAll(async () => {
      example = await openExampleApp(kind);
    });
    afterAll(() => example?.close());

    it('the page says admin is disabled and how to enable it', async () => {
      const res = await request(example.server).get('/admin');
      expect(res.status).toBe(200);
      expect(res.text).toContain('Admin is disabled.');
      expect(res.text).toContain('ADMIN_PASSWORD=');
      expect(res.text).not.toContain('id="migrate"');
    });

    it('every admin endpoint answers 403 E_ADMIN_DISABLED, even with credentials', async () => {
      for (const [method, path] of [
        ['get', '/admin/stores'],
        ['get', '/admin/migrations'],
        ['post', '/admin/switch'],
      ] as const) {
        const res = await request(example.server)[method](path).auth('admin', PASSWORD);
        expect(res.status).toBe(403);
        expect((res.body as { error: { code: string } }).error.code).toBe('E_ADMIN_DISABLED');
      }
    });
  });

  describe('with ADMIN_PASSWORD', () => {
    let example: ExampleApp;
    const admin = (method: 'get' | 'post', path: string) =>
      request(example.server)[method](path).auth('admin', PASSWORD);

    beforeAll(async () => {
      // On PostgreSQL the app's worker makes the thumbnails and runs the migration.
      example = await openExampleApp(kind, { adminPassword: PASSWORD, worker: true });
      const user = await example.models.User.create({ name: 'Moved' });
      await request(example.server)
        .post(`/api/users/${user.id}/picture`)
        .attach('picture', await jpeg(300, 300), 'a.jpg')
        .expect(201);
      await request(example.server).post('/api/albums').send({ title: 'Moved too' }).expect(201);
      await request(example.server)
        .post('/api/albums/1/photos')
        .attach('photos', await jpeg(400, 300), 'b.jpg')
        .expect(201);
      await example.thumbnailsDone();
    });
    afterAll(() => example?.close());

    it('asks for Basic credentials: 401 without them or with a wrong password', async () => {
      const page = await request(example.server).get('/admin');
      expect(page.status).toBe(401);
      expect(page.headers['www-authenticate']).toMatch(/^Basic realm="[^"]+"/);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const wrong = await request(example.server).get('/admin').auth('admin', 'nope');
      expect(wrong.status).toBe(401);
      const json = await request(example.server).get('/admin/stores');
      expect(json.status).toBe(401);
      expect((json.body as { error: { code: string } }).error.code).toBe('E_UNAUTHORIZED');
      const sse = await request(example.server).get('/admin/migrations/events');
      expect(sse.status).toBe(401);
    });

    it('shows each store with its files and bytes, as the page and as JSON', async () => {
      const files = await listFiles(example.imagesDir);
      let bytes = 0;
      for (const file of files) bytes += (await stat(join(example.imagesDir, file))).size;
      const res = await admin('get', '/admin/stores');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        stores: [
          {
            name: 'main',
            label: pathToFileURL(example.imagesDir).href,
            active: true,
            total: files.length,
            present: files.length,
            bytes,
          },
        ],
      });
      const page = await admin('get', '/admin');
      expect(page.status).toBe(200);
      expect(page.text).toContain(`${files.length} of ${files.length}`);
      expect(page.text).toContain('id="migrate"');
    });

    it('refuses a bad store URL (400), a non-JSON body (415), and migrations before a second store (404)', async () => {
      const bad = await admin('post', '/admin/stores').send({ url: 'ftp://example.com/x' });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({
        error: { code: 'E_INVALID_STORE_URL', message: anyString, field: 'url' },
      });
      const missing = await admin('post', '/admin/stores').send({});
      expect(missing.status).toBe(400);
      const form = await admin('post', '/admin/stores').type('form').send({ url: 'file:///tmp/x' });
      expect(form.status).toBe(415);
      const none = await admin('get', '/admin/migrations');
      expect(none.status).toBe(404);
      expect((none.body as { error: { code: string } }).error.code).toBe('E_NO_MIGRATION');
      const unknown = await admin('post', '/admin/switch').send({ store: 'store-9' });
      expect(unknown.status).toBe(404);
    });

    it('migrates to a new folder store with SSE progress, then switches to it', async () => {
      const target = join(example.dir, 'second');
      const url = `${pathToFileURL(target).href}?prefix=images-b/`;
      const added = await admin('post', '/admin/stores').send({ url });
      expect(added.status).toBe(201);
      const total = (await listFiles(example.imagesDir)).length;
      expect(added.body).toEqual({
        store: { name: 'store-2', label: url, active: false, total, present: 0, bytes: 0 },
      });
      expect((await admin('post', '/admin/stores').send({ url })).status).toBe(200);

      const early = await admin('post', '/admin/switch').send({ store: 'store-2' });
      expect(early.status).toBe(409);
      expect((early.body as { error: { code: string } }).error.code).toBe('E_STORE_INCOMPLETE');

      const events = await openEvents(example, '/admin/migrations/events');
      const started = await admin('post', '/admin/migrations').send({
        from: 'main',
        to: 'store-2',
        skipExisting: true,
      });
      expect(started.status).toBe(202);
      const end = await events.until('end');
      expect(end).toMatchObject({ state: 'succeeded', total, migrated: total, failed: 0 });
      // Distributed on PostgreSQL: copied by the worker, counted from the migration's rows.
      expect((end as { distributed?: boolean }).distributed).toBe(
        kind.name === 'postgres' ? true : undefined,
      );
      expect(events.names).toContain('start');
      events.close();
      expect(await listFiles(target)).toEqual(await listFiles(example.imagesDir));

      const switched = await admin('post', '/admin/switch').send({ store: 'store-2' });
      expect(switched.status).toBe(200);
      expect((switched.body as { store: { active: boolean } }).store.active).toBe(true);

      // The old folder goes: every image must now come from the new store.
      await rm(example.imagesDir, { recursive: true });
      const users = await request(example.server).get('/api/users');
      const albums = await request(example.server).get('/api/albums');
      const urls = JSON.stringify([users.body, albums.body]).match(/http:[^"]+_ts=\d+/g) ?? [];
      expect(urls).toHaveLength(total);
      for (const image of urls) {
        expect(image).toContain('/images-b/');
        const served = await request(example.server).get(pathOf(image));
        expect(served.status).toBe(200);
      }
      const page = await request(example.server).get('/');
      expect(page.text).toContain('images-b/');
    });
  });
});

interface EventStream {
  names: string[];
  until(name: string): Promise<unknown>;
  close(): void;
}

/** Reads Server-Sent Events from the app with the admin's credentials. */
async function openEvents(example: ExampleApp, path: string): Promise<EventStream> {
  const { port } = example.server.address() as AddressInfo;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path, auth: `admin:${PASSWORD}` }, resolve).on(
      'error',
      reject,
    );
  });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
  response.setEncoding('utf8');
  const names: string[] = [];
  const waiting = new Map<string, (data: unknown) => void>();
  // An event may come before the test waits for it.
  const seen = new Map<string, unknown>();
  let buffer = '';
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      if (name === undefined || data === undefined) continue;
      names.push(name);
      seen.set(name, JSON.parse(data));
      waiting.get(name)?.(seen.get(name));
    }
  });
  return {
    names,
    until: (name) =>
      new Promise((resolve) => {
        if (seen.has(name)) resolve(seen.get(name));
        else waiting.set(name, resolve);
      }),
    close: () => response.destroy(),
  };
}
