/**
 * The serving middleware's own disk path (plain GET and HEAD of small files, no hot cache): the
 * same bytes, headers and 304s as serve-static gives for the same file; large files, ranges and
 * preconditions still answered by send.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import serveStatic from 'serve-static';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveImages } from '../../src/index.js';
import { FRAMEWORKS } from '../support/frameworks.js';
import { makeTempDir } from '../support/temp-dir.js';

/** What send sets for a file, compared one by one (`Date` differs by the second). */
const HEADERS = [
  'content-type',
  'content-length',
  'etag',
  'last-modified',
  'cache-control',
  'accept-ranges',
  'x-content-type-options',
  'content-security-policy',
  'access-control-allow-origin',
];

const FILES = {
  small: { path: 'user/1/2.256x192.jpe', bytes: randomBytes(17 * 1024) },
  large: { path: 'user/1/2.1600x1200.jpe', bytes: randomBytes(300 * 1024 + 7) },
  empty: { path: 'user/1/2.1x1.png', bytes: Buffer.alloc(0) },
  svg: {
    path: 'user/1/2.10x10.svg',
    bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
  },
};

let dir: Awaited<ReturnType<typeof makeTempDir>>;
let ours: ReturnType<(typeof FRAMEWORKS)[number]['create']>['listener'];
let theirs: ReturnType<(typeof FRAMEWORKS)[number]['create']>['listener'];
beforeAll(async () => {
  dir = await makeTempDir('serve-disk');
  await mkdir(join(dir.path, 'user/1'), { recursive: true });
  for (const file of Object.values(FILES)) await writeFile(join(dir.path, file.path), file.bytes);
  ours = FRAMEWORKS[0]!
    .create()
    .use(serveImages({ root: dir.path, prefix: 'images', hotCache: false, cors: true })).listener;
  theirs = FRAMEWORKS[0]!.create().use(
    '/images',
    serveStatic(dir.path, {
      maxAge: 365 * 24 * 60 * 60 * 1000,
      immutable: true,
      index: false,
      setHeaders(res, path) {
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Access-Control-Allow-Origin', '*');
        if (path.endsWith('.svg')) {
          res.setHeader(
            'Content-Security-Policy',
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
          );
        }
      },
    }),
  ).listener;
});
afterAll(async () => {
  await dir.remove();
});

describe('the disk path', () => {
  it.each(Object.entries(FILES))(
    'GET of the %s file gives the bytes and headers serve-static gives',
    async (_, file) => {
      const mine = await request(ours).get(`/images/${file.path}`).buffer(true).expect(200);
      const reference = await request(theirs).get(`/images/${file.path}`).buffer(true).expect(200);
      expect(Buffer.from(mine.body as Buffer)).toEqual(file.bytes);
      for (const name of HEADERS) expect(mine.headers[name], name).toBe(reference.headers[name]);
    },
  );

  it.each(Object.entries(FILES))(
    'HEAD of the %s file gives the headers and no body',
    async (_, file) => {
      const mine = await request(ours).head(`/images/${file.path}`).expect(200);
      const reference = await request(theirs).head(`/images/${file.path}`).expect(200);
      expect(mine.body).toEqual({});
      expect(mine.headers['content-length']).toBe(String(file.bytes.length));
      for (const name of HEADERS) expect(mine.headers[name], name).toBe(reference.headers[name]);
    },
  );

  it.each(['small', 'large'] as const)(
    'answers If-None-Match and If-Modified-Since of the %s file with 304, as send',
    async (size) => {
      const path = `/images/${FILES[size].path}`;
      const { headers } = await request(ours).get(path).expect(200);
      const byTag = await request(ours)
        .get(path)
        .set('If-None-Match', headers.etag as string)
        .expect(304);
      expect(byTag.text).toBe('');
      expect(byTag.headers.etag).toBe(headers.etag);
      await request(ours)
        .get(path)
        .set('If-Modified-Since', headers['last-modified'] as string)
        .expect(304);
      await request(theirs)
        .get(path)
        .set('If-None-Match', headers.etag as string)
        .expect(304);
      await request(ours).get(path).set('If-None-Match', '"other"').expect(200);
    },
  );

  it('leaves ranges and preconditions to send', async () => {
    const path = `/images/${FILES.large.path}`;
    const range = await request(ours)
      .get(path)
      .set('Range', 'bytes=10-19')
      .buffer(true)
      .expect(206);
    expect(Buffer.from(range.body as Buffer)).toEqual(FILES.large.bytes.subarray(10, 20));
    expect(range.headers['content-range']).toBe(`bytes 10-19/${FILES.large.bytes.length}`);
    await request(ours).get(path).set('If-Match', '"not-it"').expect(412);
  });

  it('answers a folder, a missing file and a file replaced by a folder with 404', async () => {
    await request(ours).get('/images/user/1').expect(404);
    await request(ours).get('/images/user/1/3.256x192.jpe').expect(404);
    await request(ours).get(`/images/${FILES.small.path}/below`).expect(404);
  });
});
