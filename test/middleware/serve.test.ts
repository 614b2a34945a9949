/**
 * HttpExposedFileSystemStore's middleware serving its folder, grouped by HTTP feature, under
 * Express 5, Express 4 and Connect.
 */
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpExposedFileSystemStore, serveImages } from '../../src/index.js';
import { FRAMEWORKS, type Handler, type TestApp } from '../support/frameworks.js';
import {
  JPEG_BYTES,
  JPEG_PATH,
  makeServeFixture,
  SVG_TEXT,
  type ServeFixture,
} from '../support/serve-fixture.js';
import { makeTempDir } from '../support/temp-dir.js';

const CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The handler after the store: proves a request fell through. */
const fallThrough: Handler = (_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('fell through');
};

let fixture: ServeFixture;
beforeAll(async () => {
  fixture = await makeServeFixture();
});
afterAll(async () => {
  await fixture.remove();
});

describe.each(FRAMEWORKS)('serving under $name', (framework) => {
  const app = (options: { cors?: boolean } = {}): TestApp =>
    framework
      .create()
      .use(new HttpExposedFileSystemStore({ path: fixture.root, ...options }).middleware())
      .use(fallThrough);

  describe('GET and HEAD', () => {
    it('GET gives the file with its type, length, validators and caching headers', async () => {
      const response = await request(app().listener).get(JPEG_PATH).expect(200);
      expect(response.body).toEqual(JPEG_BYTES);
      expect(response.headers['content-type']).toBe('image/jpeg');
      expect(response.headers['content-length']).toBe(String(JPEG_BYTES.length));
      expect(response.headers.etag).toMatch(/^W?\/?".+"$/);
      expect(new Date(response.headers['last-modified'] as string).getTime()).not.toBeNaN();
      expect(response.headers['cache-control']).toBe(CACHE_CONTROL);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['accept-ranges']).toBe('bytes');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers['content-security-policy']).toBeUndefined();
    });

    it('HEAD gives the same headers and no body', async () => {
      const get = await request(app().listener).get(JPEG_PATH).expect(200);
      const head = await request(app().listener).head(JPEG_PATH).expect(200);
      for (const name of ['content-type', 'content-length', 'etag', 'last-modified']) {
        expect(head.headers[name], name).toBe(get.headers[name]);
      }
      expect(head.body).toEqual({});
    });

    it('serves a URL with the cache-buster query', async () => {
      const response = await request(app().listener)
        .get(`${JPEG_PATH}?_ts=20171010123456789000`)
        .expect(200);
      expect(response.body).toEqual(JPEG_BYTES);
    });

    it('takes Content-Type from the extension: .jpe is image/jpeg, .png image/png', async () => {
      await request(app().listener)
        .get('/images/user/234/1/1234.10x8.png')
        .expect(200)
        .expect('Content-Type', 'image/png');
    });

    it('follows a symlink that stays inside the folder', async () => {
      const response = await request(app().listener).get('/images/user/alias.jpe').expect(200);
      expect(response.body).toEqual(JPEG_BYTES);
    });
  });

  describe('not found, fall-through and methods', () => {
    it('answers a missing file under the prefix with a plain-text 404, not falling through', async () => {
      const response = await request(app().listener)
        .get('/images/user/234/1/9999.100x80.jpe')
        .expect(404)
        .expect('Content-Type', 'text/plain; charset=utf-8')
        .expect('X-Content-Type-Options', 'nosniff');
      expect(response.text).toBe('404 Not Found\n');
    });

    it.each(['/images/', '/images/user', '/images/user/234/1/'])(
      'answers the folder %s with 404',
      async (path) => {
        const response = await request(app().listener).get(path).expect(404);
        expect(response.text).not.toContain('fell through');
      },
    );

    it.each(['/', '/other/user/234/1/1234.100x80.jpe', '/images', '/imagesx/a.jpe', '/IMAGES/a'])(
      'passes %s, outside the prefix, to next()',
      async (path) => {
        const response = await request(app().listener).get(path).expect(200);
        expect(response.text).toBe('fell through');
      },
    );

    it.each(['POST', 'PUT', 'DELETE', 'PATCH'] as const)(
      'answers %s under the prefix with 405 and Allow: GET, HEAD',
      async (method) => {
        for (const path of [JPEG_PATH, '/images/missing.jpe']) {
          const agent = request(app().listener);
          const response = await agent[method.toLowerCase() as 'post'](path)
            .expect(405)
            .expect('Allow', 'GET, HEAD');
          expect(response.text).not.toContain('fell through');
        }
      },
    );

    it('passes a POST outside the prefix to next()', async () => {
      const response = await request(app().listener).post('/upload').expect(200);
      expect(response.text).toBe('fell through');
    });
  });

  describe('revalidation', () => {
    it('answers If-None-Match with the ETag with 304', async () => {
      const { headers } = await request(app().listener).get(JPEG_PATH).expect(200);
      const response = await request(app().listener)
        .get(JPEG_PATH)
        .set('If-None-Match', headers.etag as string)
        .expect(304);
      expect(response.text ?? '').toBe('');
    });

    it('answers If-Modified-Since with the Last-Modified date with 304', async () => {
      const { headers } = await request(app().listener).get(JPEG_PATH).expect(200);
      await request(app().listener)
        .get(JPEG_PATH)
        .set('If-Modified-Since', headers['last-modified'] as string)
        .expect(304);
    });

    it('answers a stale If-None-Match with 200 and the file', async () => {
      const response = await request(app().listener)
        .get(JPEG_PATH)
        .set('If-None-Match', '"stale"')
        .expect(200);
      expect(response.body).toEqual(JPEG_BYTES);
    });
  });

  describe('ranges', () => {
    it('answers a satisfiable Range with 206 and Content-Range', async () => {
      const response = await request(app().listener)
        .get(JPEG_PATH)
        .set('Range', 'bytes=0-9')
        .expect(206)
        .expect('Content-Range', `bytes 0-9/${JPEG_BYTES.length}`)
        .expect('Content-Length', '10');
      expect(response.body).toEqual(JPEG_BYTES.subarray(0, 10));
    });

    it('answers a suffix Range with the last bytes', async () => {
      const response = await request(app().listener)
        .get(JPEG_PATH)
        .set('Range', 'bytes=-5')
        .expect(206);
      expect(response.body).toEqual(JPEG_BYTES.subarray(-5));
    });

    it('answers an unsatisfiable Range with 416 and Content-Range: bytes */size', async () => {
      const response = await request(app().listener)
        .get(JPEG_PATH)
        .set('Range', `bytes=${JPEG_BYTES.length + 10}-`)
        .expect(416)
        .expect('Content-Range', `bytes */${JPEG_BYTES.length}`);
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(response.headers.etag).toBeUndefined();
    });
  });

  describe('CORS', () => {
    it('adds Access-Control-Allow-Origin: * only when cors is true', async () => {
      await request(app({ cors: true }).listener)
        .get(JPEG_PATH)
        .expect(200)
        .expect('Access-Control-Allow-Origin', '*');
      const off = await request(app({ cors: false }).listener)
        .get(JPEG_PATH)
        .expect(200);
      expect(off.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('active content', () => {
    it('serves SVG with a Content-Security-Policy that sandboxes it', async () => {
      const response = await request(app().listener)
        .get('/images/user/234/1/1234.10x10.svg')
        .expect(200)
        .expect('Content-Type', 'image/svg+xml')
        .expect('X-Content-Type-Options', 'nosniff');
      const policy = response.headers['content-security-policy'] as string;
      expect(policy.split(';').map((part) => part.trim())).toContain('sandbox');
      expect(policy).toContain("default-src 'none'");
      expect(Buffer.from(response.body as Buffer).toString()).toBe(SVG_TEXT);
    });
  });

  describe('dotfiles and writes in progress', () => {
    it.each([
      '/images/.hidden',
      '/images/%2ehidden',
      '/images/user/234/1/.1234.50x40.jpe.0123456789abcdef.tmp',
      '/images/user/234/1/%2E1234.50x40.jpe.0123456789abcdef.tmp',
    ])('never serves %s', async (path) => {
      const response = await request(app().listener).get(path).expect(404);
      expect(response.text).not.toContain(fixture.secret);
    });
  });
});

describe('serveImages', () => {
  it('serves files of a folder that did not exist yet when the first request came', async () => {
    // The folder is reached through a symlink, so its real path differs from its path: a
    // real path computed before the folder existed must not stick.
    const base = await makeTempDir('serve-late');
    try {
      const target = join(base.path, 'real');
      const root = join(base.path, 'via-link');
      await symlink(target, root);
      const app = FRAMEWORKS[0]!.create().use(serveImages({ root, prefix: 'images' }));
      await request(app.listener).get('/images/a/b.png').expect(404);
      await mkdir(join(target, 'a'), { recursive: true });
      await writeFile(join(target, 'a/b.png'), 'late');
      const response = await request(app.listener).get('/images/a/b.png').expect(200);
      expect(Buffer.from(response.body as Buffer).toString()).toBe('late');
    } finally {
      await base.remove();
    }
  });

  it('stops serving a file once it is deleted', async () => {
    const base = await makeTempDir('serve-deleted');
    try {
      await writeFile(join(base.path, 'x.png'), 'x');
      const app = FRAMEWORKS[0]!.create().use(serveImages({ root: base.path, prefix: 'img/' }));
      await request(app.listener).get('/img/x.png').expect(200);
      await rm(join(base.path, 'x.png'));
      await request(app.listener).get('/img/x.png').expect(404);
    } finally {
      await base.remove();
    }
  });
});

describe('serveImages options', () => {
  it.each<[string, Record<string, unknown>]>([
    ['root', { root: '' }],
    ['root', { root: 42 }],
    ['prefix', { prefix: '../up' }],
    ['cors', { cors: 'yes' }],
    ['offload', { offload: 'x-redirect' }],
  ])('refuses a bad %s with E_INVALID_OPTION naming it (%j)', (option, bad) => {
    const options = { root: '/var/images', prefix: 'images', ...bad };
    expect(() => serveImages(options as unknown as Parameters<typeof serveImages>[0])).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option }) as Error,
    );
  });
});
