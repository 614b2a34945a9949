import { connect as netConnect, type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  HotFileCache,
  HttpExposedFileSystemStore,
  InvalidOptionError,
  UrlUnavailableError,
  type HttpExposedFileSystemStoreOptions,
} from '../../src/index.js';
import { currentStore } from '../../src/context.js';
import { FRAMEWORKS, sendJson, type Handler, type TestApp } from '../support/frameworks.js';
import { makeTempDir } from '../support/temp-dir.js';
import { testStore } from './conformance.js';

const KEY = ['user', 1234, 100, 80, 'image/jpeg'] as const;
const LAYOUT = 'user/234/1/1234.100x80.jpe';

testStore(
  'HttpExposedFileSystemStore',
  async () => {
    const dir = await makeTempDir('http-fs-store');
    return {
      store: new HttpExposedFileSystemStore({
        path: dir.path,
        hostUrlGetter: () => 'http://localhost:8080/',
      }),
      cleanup: dir.remove,
    };
  },
  (get) => {
    it('builds URLs from hostUrlGetter and the default prefix images/', () => {
      expect(get().store.getUrl(...KEY)).toBe(`http://localhost:8080/images/${LAYOUT}`);
    });
  },
  { stat: true, list: true, localPath: true, httpUrls: true },
);

/** Answers with the URL of KEY as the current store builds it, or the error's code. */
const reportUrl: Handler = (_req, res) => {
  try {
    sendJson(res, { url: currentStore.getUrl(...KEY) });
  } catch (error) {
    sendJson(res, { error: (error as { code?: unknown }).code ?? String(error) });
  }
};

let dir: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  dir = await makeTempDir('http-fs-urls');
});
afterAll(async () => {
  await dir.remove();
});

function makeStore(options: Partial<HttpExposedFileSystemStoreOptions> = {}) {
  return new HttpExposedFileSystemStore({ path: dir.path, ...options });
}

async function urlFrom(app: TestApp, headers: Record<string, string> = {}, path = '/url') {
  const response = await request(app.listener).get(path).set(headers).expect(200);
  return response.body as { url?: string; error?: string };
}

describe.each(FRAMEWORKS)('URLs built from the request under $name', (framework) => {
  it('uses the request’s protocol and Host, per request', async () => {
    const app = framework.create().use(makeStore().middleware()).use(reportUrl);
    expect(await urlFrom(app, { Host: 'example.com:8080' })).toEqual({
      url: `http://example.com:8080/images/${LAYOUT}`,
    });
    expect(await urlFrom(app, { Host: 'other.example' })).toEqual({
      url: `http://other.example/images/${LAYOUT}`,
    });
    expect(await urlFrom(app, { Host: '[::1]:3000' })).toEqual({
      url: `http://[::1]:3000/images/${LAYOUT}`,
    });
  });

  it('ignores X-Forwarded-Proto and X-Forwarded-Host unless the proxy is trusted', async () => {
    const app = framework.create().use(makeStore().middleware()).use(reportUrl);
    const forwarded = {
      Host: 'internal:3000',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'evil.example',
    };
    expect(await urlFrom(app, forwarded)).toEqual({
      url: `http://internal:3000/images/${LAYOUT}`,
    });
  });

  it('puts the mount path before the prefix, and the URL serves the file', async () => {
    const store = makeStore();
    await store.putFile(Buffer.from('mounted bytes'), ...KEY, false);
    const app = framework.create().use('/sub', store.middleware()).use('/sub', reportUrl);
    const { url } = await urlFrom(app, { Host: 'example.com' }, '/sub/url');
    expect(url).toBe(`http://example.com/sub/images/${LAYOUT}`);
    const served = await request(app.listener)
      .get(new URL(url ?? '').pathname)
      .expect(200);
    expect(served.body).toEqual(Buffer.from('mounted bytes'));
  });

  it('uses a custom prefix', async () => {
    const app = framework
      .create()
      .use(makeStore({ prefix: '/__images__/' }).middleware())
      .use(reportUrl);
    expect(await urlFrom(app, { Host: 'example.com' })).toEqual({
      url: `http://example.com/__images__/${LAYOUT}`,
    });
  });

  it('prefers hostUrlGetter to the request', async () => {
    const store = makeStore({ hostUrlGetter: () => 'https://cdn.example' });
    const app = framework.create().use(store.middleware()).use(reportUrl);
    expect(await urlFrom(app, { Host: 'example.com' })).toEqual({
      url: `https://cdn.example/images/${LAYOUT}`,
    });
  });

  it('refuses a Host header that is not a host with UrlUnavailableError', async () => {
    const app = framework.create().use(makeStore().middleware()).use(reportUrl);
    for (const host of ['evil.example/path', 'a b', 'x@evil.example', 'host:port']) {
      expect(await urlFrom(app, { Host: host })).toEqual({ error: 'E_NO_HOST_URL' });
    }
  });

  it('refuses a request without a Host header (HTTP/1.0) with UrlUnavailableError', async () => {
    const app = framework.create().use(makeStore().middleware()).use(reportUrl);
    const server = createServer(app.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = netConnect(port, '127.0.0.1', () =>
          socket.write('GET /url HTTP/1.0\r\n\r\n'),
        );
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.[01] 200/);
      expect(raw).toContain('"error":"E_NO_HOST_URL"');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe.each(FRAMEWORKS.filter((f) => f.name !== 'Connect'))(
  'URLs behind a trusted proxy under $name',
  (framework) => {
    it('uses X-Forwarded-Proto and the first X-Forwarded-Host when trust proxy is set', async () => {
      const app = framework
        .create({ trustProxy: true })
        .use(makeStore().middleware())
        .use(reportUrl);
      expect(
        await urlFrom(app, {
          Host: 'internal:3000',
          'X-Forwarded-Proto': 'https',
          'X-Forwarded-Host': 'public.example, proxy.internal',
        }),
      ).toEqual({ url: `https://public.example/images/${LAYOUT}` });
      expect(await urlFrom(app, { Host: 'internal:3000', 'X-Forwarded-Proto': 'https' })).toEqual({
        url: `https://internal:3000/images/${LAYOUT}`,
      });
    });

    it('refuses a trusted X-Forwarded-Host that is not a host', async () => {
      const app = framework
        .create({ trustProxy: true })
        .use(makeStore().middleware())
        .use(reportUrl);
      expect(
        await urlFrom(app, { Host: 'internal:3000', 'X-Forwarded-Host': 'evil.example/x' }),
      ).toEqual({ error: 'E_NO_HOST_URL' });
    });

    it('ignores a forwarded protocol other than http and https', async () => {
      const app = framework
        .create({ trustProxy: true })
        .use(makeStore().middleware())
        .use(reportUrl);
      expect(
        await urlFrom(app, { Host: 'internal:3000', 'X-Forwarded-Proto': 'javascript' }),
      ).toEqual({ url: `http://internal:3000/images/${LAYOUT}` });
    });
  },
);

describe('URLs outside a request', () => {
  it('throw UrlUnavailableError (E_NO_HOST_URL) without a hostUrlGetter, saying how to fix it', () => {
    let error: unknown;
    try {
      makeStore().getUrl(...KEY);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UrlUnavailableError);
    expect((error as UrlUnavailableError).code).toBe('E_NO_HOST_URL');
    expect((error as Error).message).toContain('hostUrlGetter');
    expect((error as Error).message).toContain('store.middleware()');
  });

  it.each(['https://example.com', 'https://example.com/'])(
    'use hostUrlGetter returning %s, with or without a trailing slash',
    (host) => {
      const store = makeStore({ hostUrlGetter: () => host });
      expect(store.getUrl(...KEY)).toBe(`https://example.com/images/${LAYOUT}`);
    },
  );

  it('call hostUrlGetter each time, so the host may change', () => {
    let host = 'https://one.example/';
    const store = makeStore({ hostUrlGetter: () => host });
    expect(store.getUrl(...KEY)).toBe(`https://one.example/images/${LAYOUT}`);
    host = 'https://two.example/base/';
    expect(store.getUrl(...KEY)).toBe(`https://two.example/base/images/${LAYOUT}`);
  });
});

describe('HttpExposedFileSystemStore options', () => {
  it('default prefix is images and cors is off', () => {
    const store = makeStore();
    expect(store.prefix).toBe('images');
    expect(store.cors).toBe(false);
    expect(makeStore({ prefix: 'a/b/' }).prefix).toBe('a/b');
  });

  it.each<[string, Partial<HttpExposedFileSystemStoreOptions>]>([
    ['path', { path: '' }],
    ['path', { path: 42 as unknown as string }],
    ['prefix', { prefix: '' }],
    ['prefix', { prefix: '/' }],
    ['prefix', { prefix: '..' }],
    ['prefix', { prefix: 'a/../b' }],
    ['prefix', { prefix: 'a//b' }],
    ['prefix', { prefix: 5 as unknown as string }],
    ['hostUrlGetter', { hostUrlGetter: 'https://x/' as unknown as () => string }],
    ['cors', { cors: 'yes' as unknown as boolean }],
    ['fsync', { fsync: 1 as unknown as boolean }],
  ])('refuses a bad %s with InvalidOptionError naming it (%j)', (option, options) => {
    let error: unknown;
    try {
      new HttpExposedFileSystemStore({ path: dir.path, ...options });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('E_INVALID_OPTION');
    expect((error as InvalidOptionError).option).toBe(option);
  });

  it('refuses missing options with InvalidOptionError naming path', () => {
    expect(
      () =>
        new HttpExposedFileSystemStore(undefined as unknown as HttpExposedFileSystemStoreOptions),
    ).toThrow(expect.objectContaining({ option: 'path' }) as Error);
  });
});

describe('HttpExposedFileSystemStore declares what it serves', () => {
  it('as its servedFolder: the folder, prefix and serving options, resolved', () => {
    const store = makeStore({
      prefix: '/pics/',
      cors: true,
      offload: 'x-accel-redirect',
      internalLocation: '/protected',
    });
    const { hotCache, ...rest } = store.servedFolder;
    expect(rest).toEqual({
      root: resolve(dir.path),
      prefix: 'pics',
      cors: true,
      offload: 'x-accel-redirect',
      internalLocation: '/protected/',
      negotiate: false,
    });
    expect(hotCache).toBeInstanceOf(HotFileCache);
    expect(makeStore({ hotCache: false }).servedFolder.hotCache).toBeUndefined();
    expect(makeStore().servedFolder).toMatchObject({ prefix: 'images', offload: undefined });
  });

  it('one hot cache serves every middleware() of the store', async () => {
    const store = makeStore({ prefix: 'shared' });
    await store.putFile(Buffer.from('shared bytes'), ...KEY, false);
    const cache = store.servedFolder.hotCache!;
    const first = FRAMEWORKS[0]!.create().use(store.middleware()).listener;
    const second = FRAMEWORKS[0]!.create().use(store.middleware()).listener;
    // The cache keeps only files left alone for a while; move the clock rather than wait.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 10_000);
      await vi.waitFor(async () => {
        await request(first).get(`/shared/${LAYOUT}`).expect(200);
        expect(cache.stats.hits).toBeGreaterThan(0);
      });
      const hits = cache.stats.hits;
      const served = await request(second).get(`/shared/${LAYOUT}`).expect(200);
      expect(served.body).toEqual(Buffer.from('shared bytes'));
      expect(cache.stats.hits).toBe(hits + 1);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each<[string, Partial<HttpExposedFileSystemStoreOptions>]>([
    ['offload', { offload: 'x-redirect' as unknown as 'x-sendfile' }],
    ['internalLocation', { offload: 'x-accel-redirect', internalLocation: 'relative/' }],
    ['hotCache', { hotCache: 'yes' as unknown as boolean }],
  ])('refuses a bad %s in the constructor, naming it', (option, options) => {
    expect(() => makeStore(options)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option }) as Error,
    );
  });
});
