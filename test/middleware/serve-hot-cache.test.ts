/**
 * serveImages' hot-file cache (answers from memory, never stale after a file is replaced at
 * the same path) and its offload mode (a header for nginx or Apache, no body).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HotFileCache, HttpExposedFileSystemStore, serveImages } from '../../src/index.js';
import { FRAMEWORKS } from '../support/frameworks.js';
import { makeTempDir } from '../support/temp-dir.js';

type TempDir = Awaited<ReturnType<typeof makeTempDir>>;

const PATH = '/images/user/1/2.256x192.jpg';

let dir: TempDir;
let file: string;
beforeEach(async () => {
  dir = await makeTempDir('serve-hot');
  file = join(dir.path, 'user/1/2.256x192.jpg');
  await mkdir(join(dir.path, 'user/1'), { recursive: true });
  await writeFile(file, randomBytes(3000));
  // The cache keeps only files left alone for a while; move the clock rather than wait.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + 10_000);
});
afterEach(async () => {
  vi.useRealTimers();
  await dir.remove();
});

function appWith(cache: HotFileCache) {
  return FRAMEWORKS[0]!
    .create()
    .use(serveImages({ root: dir.path, prefix: 'images', hotCache: cache })).listener;
}

/** Requests the file until the cache holds it, as its first reads fill it in the background. */
async function warm(listener: ReturnType<typeof appWith>, cache: HotFileCache, path = PATH) {
  const before = cache.stats.hits;
  await vi.waitFor(async () => {
    await request(listener).get(path).expect(200);
    expect(cache.stats.hits).toBeGreaterThan(before);
  });
}

describe('hot-file cache', () => {
  it('answers from memory with the bytes and headers serve-static gave', async () => {
    const cache = new HotFileCache();
    const listener = appWith(cache);
    const fromDisk = await request(listener).get(PATH).expect(200);
    await warm(listener, cache);
    const hits = cache.stats.hits;
    const fromMemory = await request(listener).get(PATH).expect(200);
    expect(cache.stats.hits).toBe(hits + 1);
    expect(fromMemory.body).toEqual(fromDisk.body);
    for (const name of [
      'content-type',
      'content-length',
      'etag',
      'last-modified',
      'cache-control',
      'accept-ranges',
      'x-content-type-options',
    ]) {
      expect(fromMemory.headers[name], name).toBe(fromDisk.headers[name]);
    }
    expect(cache.size).toBe(3000);
  });

  // A plain stat rounds to the millisecond, a bigint one cuts: a time 0.75 ms past one tells.
  it.each([0.25, 0.75])(
    'gives the ETag and Last-Modified of the disk for an mtime %s ms past a millisecond',
    async (fraction) => {
      const seconds = Math.floor(Date.now() / 1000) - 60;
      await utimes(file, seconds, seconds + 0.123 + fraction / 1000);
      const cache = new HotFileCache();
      const listener = appWith(cache);
      const fromDisk = await request(listener).get(PATH).expect(200);
      await warm(listener, cache);
      const fromMemory = await request(listener).get(PATH).expect(200);
      expect(fromMemory.headers.etag).toBe(fromDisk.headers.etag);
      expect(fromMemory.headers['last-modified']).toBe(fromDisk.headers['last-modified']);
      const revalidated = await request(listener)
        .get(PATH)
        .set('If-None-Match', fromDisk.headers.etag as string);
      expect(revalidated.status).toBe(304);
    },
  );

  it('answers If-None-Match and HEAD from memory like serve-static', async () => {
    const cache = new HotFileCache();
    const listener = appWith(cache);
    await warm(listener, cache);
    const { headers } = await request(listener).get(PATH).expect(200);
    const hits = cache.stats.hits;
    await request(listener)
      .get(PATH)
      .set('If-None-Match', headers.etag as string)
      .expect(304);
    const head = await request(listener).head(PATH).expect(200);
    expect(head.headers['content-length']).toBe('3000');
    expect(head.text ?? '').toBe('');
    expect(cache.stats.hits).toBe(hits + 2);
  });

  it('leaves ranges to serve-static', async () => {
    const cache = new HotFileCache();
    const listener = appWith(cache);
    await warm(listener, cache);
    const hits = cache.stats.hits;
    const response = await request(listener).get(PATH).set('Range', 'bytes=0-9').expect(206);
    expect(response.headers['content-range']).toBe('bytes 0-9/3000');
    expect(cache.stats.hits).toBe(hits);
  });

  it.each([
    ['copied over the old path', (from: string, to: string) => copyFile(from, to)],
    ['renamed over the old path', (from: string, to: string) => rename(from, to)],
  ])(
    'never serves the old bytes of a file %s, even at the same size and mtime',
    async (_name, replace) => {
      const cache = new HotFileCache();
      const listener = appWith(cache);
      await warm(listener, cache);
      const old = await stat(file);
      const replacement = randomBytes(3000);
      const staged = join(dir.path, 'user/1/.staged.tmp');
      await writeFile(staged, replacement);
      await replace(staged, file);
      // The worst case: a replacement that looks like the old file to size and mtime.
      await utimes(file, old.atime, old.mtime);
      const response = await request(listener).get(PATH).expect(200);
      expect(Buffer.compare(response.body as Buffer, replacement)).toBe(0);
      await warm(listener, cache);
      const again = await request(listener).get(PATH).expect(200);
      expect(Buffer.compare(again.body as Buffer, replacement)).toBe(0);
    },
  );

  it('stops serving a cached file once it is deleted', async () => {
    const cache = new HotFileCache();
    const listener = appWith(cache);
    await warm(listener, cache);
    await rm(file);
    await request(listener).get(PATH).expect(404);
  });

  it('keeps no file above maxFileSize and no more than maxBytes in all', async () => {
    const cache = new HotFileCache({ maxFileSize: 4000, maxBytes: 5000 });
    const listener = appWith(cache);
    await writeFile(join(dir.path, 'user/1/3.256x192.jpg'), randomBytes(3000));
    await writeFile(join(dir.path, 'user/1/4.256x192.jpg'), randomBytes(4001));
    vi.setSystemTime(Date.now() + 10_000);
    await warm(listener, cache);
    await warm(listener, cache, '/images/user/1/3.256x192.jpg');
    expect(cache.size).toBe(3000);
    for (let i = 0; i < 5; i += 1) {
      await request(listener).get('/images/user/1/4.256x192.jpg').expect(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cache.size).toBe(3000);
  });

  it('does not keep a file written moments ago', async () => {
    vi.useRealTimers();
    const cache = new HotFileCache();
    const listener = appWith(cache);
    for (let i = 0; i < 3; i += 1) await request(listener).get(PATH).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cache.size).toBe(0);
    expect(cache.stats.hits).toBe(0);
  });

  it.each([{ maxFileSize: 0 }, { maxBytes: -1 }, { maxBytes: 1.5 }])(
    'refuses %o with E_INVALID_OPTION',
    (options) => {
      expect(() => new HotFileCache(options)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION' }),
      );
    },
  );
});

describe('offload', () => {
  let root: TempDir;
  beforeAll(async () => {
    root = await makeTempDir('serve-offload');
    await mkdir(join(root.path, 'user/1'), { recursive: true });
    await writeFile(join(root.path, 'user/1/2.256x192.jpg'), 'jpeg');
    await writeFile(join(root.path, 'user/1/2.10x10.svg'), '<svg/>');
    await writeFile(join(root.path, '.hidden'), 'secret');
  });
  afterAll(async () => {
    await root.remove();
  });

  it('answers x-accel-redirect with the internal location, the headers and no body', async () => {
    const store = new HttpExposedFileSystemStore({ path: root.path, offload: 'x-accel-redirect' });
    const listener = FRAMEWORKS[0]!.create().use(store.middleware()).listener;
    const response = await request(listener).get('/images/user/1/2.256x192.jpg').expect(200);
    expect(response.headers['x-accel-redirect']).toBe('/_internal/images/user/1/2.256x192.jpg');
    expect(response.headers['content-type']).toBe('image/jpeg');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect((response.body as Buffer).length).toBe(0);
    const svg = await request(listener).get('/images/user/1/2.10x10.svg').expect(200);
    expect(svg.headers['content-security-policy']).toContain('sandbox');
  });

  it('answers x-sendfile with the real absolute path', async () => {
    const listener = FRAMEWORKS[0]!
      .create()
      .use(serveImages({ root: root.path, prefix: 'img', offload: 'x-sendfile' })).listener;
    const response = await request(listener).get('/img/user/1/2.256x192.jpg').expect(200);
    const { realpath } = await import('node:fs/promises');
    expect(response.headers['x-sendfile']).toBe(
      await realpath(join(root.path, 'user/1/2.256x192.jpg')),
    );
    expect(response.text ?? '').toBe('');
  });

  it('uses a given internalLocation', async () => {
    const listener = FRAMEWORKS[0]!.create().use(
      serveImages({
        root: root.path,
        prefix: 'img',
        offload: 'x-accel-redirect',
        internalLocation: '/protected',
      }),
    ).listener;
    const response = await request(listener).get('/img/user/1/2.256x192.jpg').expect(200);
    expect(response.headers['x-accel-redirect']).toBe('/protected/user/1/2.256x192.jpg');
  });

  it.each([
    ['/img/user/1/missing.jpg', 404],
    ['/img/.hidden', 404],
    ['/img/user/../../etc/passwd', 403],
    ['/img/user/%00.jpg', 400],
  ])(
    'makes the same path checks first: %s is %i without an offload header',
    async (path, status) => {
      const listener = FRAMEWORKS[0]!
        .create()
        .use(serveImages({ root: root.path, prefix: 'img', offload: 'x-sendfile' })).listener;
      const { rawRequest } = await import('../support/serve-fixture.js');
      const response = await rawRequest(listener, path);
      expect(response.status).toBe(status);
      expect(response.head.toLowerCase()).not.toContain('x-sendfile');
    },
  );

  it.each([
    { offload: 'x-redirect' },
    { offload: 'x-accel-redirect', internalLocation: 'relative/' },
    { hotCache: 'yes' },
  ])('refuses %o with E_INVALID_OPTION', (options) => {
    expect(() => serveImages({ root: root.path, prefix: 'img', ...(options as object) })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
  });
});
