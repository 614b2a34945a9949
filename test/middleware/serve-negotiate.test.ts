/**
 * serveImages' content negotiation: a JPEG whose AVIF or WebP sibling exists is answered with
 * the sibling when `Accept` names its type, with `Vary: Accept`, an ETag per representation
 * and 304s, from disk and from the hot cache alike; off by default.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HotFileCache, HttpExposedFileSystemStore, serveImages } from '../../src/index.js';
import { FRAMEWORKS } from '../support/frameworks.js';
import { makeTempDir } from '../support/temp-dir.js';

type TempDir = Awaited<ReturnType<typeof makeTempDir>>;

const BASE = '/images/user/1/2.100x50';
const CHROMIUM = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const SAFARI_15 = 'image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';

let dir: TempDir;
let bytes: Record<'jpe' | 'avif' | 'webp', Buffer>;
beforeEach(async () => {
  dir = await makeTempDir('serve-negotiate');
  await mkdir(join(dir.path, 'user/1'), { recursive: true });
  // Same length and time for all three: only the format tells the ETags apart.
  bytes = { jpe: randomBytes(3000), avif: randomBytes(3000), webp: randomBytes(3000) };
  for (const [extension, content] of Object.entries(bytes)) {
    await writeFile(join(dir.path, `user/1/2.100x50.${extension}`), content);
  }
  await writeFile(join(dir.path, 'user/1/3.100x50.png'), randomBytes(100));
  // The cache keeps only files left alone for a while; move the clock rather than wait.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + 10_000);
});
afterEach(async () => {
  vi.useRealTimers();
  await dir.remove();
});

function appWith(options: { negotiate?: boolean; hotCache?: HotFileCache | false }) {
  return FRAMEWORKS[0]!
    .create()
    .use(serveImages({ root: dir.path, prefix: 'images', negotiate: true, ...options })).listener;
}

describe.each([
  { name: 'from disk', cache: () => false as const },
  { name: 'from the hot cache', cache: () => new HotFileCache() },
])('negotiation $name', ({ cache: makeCache }) => {
  let listener: ReturnType<typeof appWith>;
  let cache: HotFileCache | false;
  beforeEach(async () => {
    cache = makeCache();
    listener = appWith({ hotCache: cache });
    if (cache === false) return;
    // Every representation in memory before the assertions.
    const held = cache;
    for (const accept of [CHROMIUM, 'image/webp', '*/*']) {
      const before = held.stats.hits;
      await vi.waitFor(async () => {
        await request(listener).get(`${BASE}.jpe`).set('Accept', accept).expect(200);
        expect(held.stats.hits).toBeGreaterThan(before);
      });
    }
  });

  it.each([
    { accept: CHROMIUM, served: 'avif' },
    { accept: 'image/avif', served: 'avif' },
    { accept: SAFARI_15, served: 'webp' },
    { accept: 'image/webp,*/*', served: 'webp' },
    { accept: 'image/avif;q=0.5,image/webp', served: 'webp' },
    { accept: 'image/avif;q=0,image/webp;q=0.9', served: 'webp' },
    { accept: '*/*', served: 'jpe' },
    { accept: 'image/*', served: 'jpe' },
    { accept: 'image/png', served: 'jpe' },
    { accept: undefined, served: 'jpe' },
  ] as const)('Accept: $accept gets the $served', async ({ accept, served }) => {
    const req = request(listener).get(`${BASE}.jpe?_ts=1`);
    const res = await (accept === undefined ? req : req.set('Accept', accept)).expect(200);
    expect(res.body).toEqual(bytes[served]);
    expect(res.headers['content-type']).toBe(
      { jpe: 'image/jpeg', avif: 'image/avif', webp: 'image/webp' }[served],
    );
    expect(res.headers.vary).toBe('Accept');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers.etag).toMatch(new RegExp(`^W/"[0-9a-f]+-[0-9a-f]+-${served}"$`));
  });

  it('gives each representation its own ETag, and a 304 only for its own', async () => {
    const etags = new Map<string, string>();
    for (const accept of ['image/avif', 'image/webp', '*/*']) {
      const res = await request(listener).get(`${BASE}.jpe`).set('Accept', accept).expect(200);
      etags.set(accept, res.headers.etag as string);
    }
    expect(new Set(etags.values()).size).toBe(3);
    const avif = etags.get('image/avif')!;
    const notModified = await request(listener)
      .get(`${BASE}.jpe`)
      .set('Accept', CHROMIUM)
      .set('If-None-Match', avif)
      .expect(304);
    expect(notModified.headers.vary).toBe('Accept');
    expect(notModified.headers.etag).toBe(avif);
    // The AVIF's validator does not stand for the JPEG a client without AVIF gets.
    const jpeg = await request(listener)
      .get(`${BASE}.jpe`)
      .set('Accept', '*/*')
      .set('If-None-Match', avif)
      .expect(200);
    expect(jpeg.body).toEqual(bytes.jpe);
  });

  it('HEAD and Range answer for the negotiated file', async () => {
    const head = await request(listener).head(`${BASE}.jpe`).set('Accept', 'image/webp');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('image/webp');
    const range = await request(listener)
      .get(`${BASE}.jpe`)
      .set('Accept', 'image/avif')
      .set('Range', 'bytes=0-9')
      .expect(206);
    expect(range.body).toEqual(bytes.avif.subarray(0, 10));
    expect(range.headers.vary).toBe('Accept');
  });

  it('a file without siblings, or one asked for by its own type, is served as it is', async () => {
    const png = await request(listener).get('/images/user/1/3.100x50.png').set('Accept', CHROMIUM);
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers.vary).toBe('Accept');
    const webp = await request(listener).get(`${BASE}.webp`).set('Accept', CHROMIUM).expect(200);
    expect(webp.body).toEqual(bytes.webp);
    expect(webp.headers.vary).toBeUndefined();
    await request(listener).get('/images/user/1/4.100x50.jpe').set('Accept', CHROMIUM).expect(404);
  });
});

describe('negotiation settings', () => {
  it('is off by default: the asked file, no Vary', async () => {
    const listener = FRAMEWORKS[0]!
      .create()
      .use(serveImages({ root: dir.path, prefix: 'images' })).listener;
    const res = await request(listener).get(`${BASE}.jpe`).set('Accept', CHROMIUM).expect(200);
    expect(res.body).toEqual(bytes.jpe);
    expect(res.headers.vary).toBeUndefined();
  });

  it('never follows a sibling that leads out of the folder', async () => {
    const outside = await makeTempDir('serve-negotiate-outside');
    try {
      await writeFile(join(outside.path, 'secret.avif'), 'secret');
      await writeFile(join(dir.path, 'user/1/5.100x50.jpe'), bytes.jpe);
      await symlink(join(outside.path, 'secret.avif'), join(dir.path, 'user/1/5.100x50.avif'));
      const res = await request(appWith({ hotCache: false }))
        .get('/images/user/1/5.100x50.jpe')
        .set('Accept', 'image/avif')
        .expect(200);
      expect(res.body).toEqual(bytes.jpe);
    } finally {
      await outside.remove();
    }
  });

  it('checks the option', () => {
    expect(() =>
      serveImages({ root: dir.path, prefix: 'images', negotiate: 'yes' as never }),
    ).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'negotiate' }));
  });

  it('HttpExposedFileSystemStore passes it on', async () => {
    const store = new HttpExposedFileSystemStore({ path: dir.path, negotiate: true });
    const listener = FRAMEWORKS[0]!.create().use(store.middleware()).listener;
    const res = await request(listener).get(`${BASE}.jpe`).set('Accept', CHROMIUM).expect(200);
    expect(res.body).toEqual(bytes.avif);
    expect(res.headers.vary).toBe('Accept');
  });
});
