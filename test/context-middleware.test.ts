/**
 * store.middleware() keeps its store current for the rest of the request, including handlers
 * that body parsers call from the request's stream events, under Express 5, 4 and Connect.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import multer from 'multer';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextError, getCurrentStore } from '../src/index.js';
import { FRAMEWORKS, sendJson, type Handler } from './support/frameworks.js';
import { MemoryStore } from './support/memory-store.js';
import { makeTempDir } from './support/temp-dir.js';

interface ParsedRequest extends IncomingMessage {
  body?: unknown;
  file?: { size: number; buffer?: Buffer; path?: string };
}

/** Answers with the name of the current store and what the parsers left on the request. */
const report: Handler = (req, res) => {
  const parsed = req as ParsedRequest;
  let store: string;
  try {
    store = (getCurrentStore() as MemoryStore).name;
  } catch (error) {
    store = error instanceof ContextError ? error.code : 'unexpected error';
  }
  sendJson(res, { store, body: parsed.body ?? null, fileSize: parsed.file?.size ?? null });
};

/**
 * A body parser in the style of older or hand-written ones: it calls `next()` from the
 * request's `end` event without binding it to an AsyncResource (raw-body and multer do bind).
 */
const eventParser: Handler = (req, _res, next) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    (req as ParsedRequest).body = JSON.parse(Buffer.concat(chunks).toString()) as unknown;
    next();
  });
};

const a = new MemoryStore('a');
const b = new MemoryStore('b');
let uploads: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  uploads = await makeTempDir('context-uploads');
});
afterAll(async () => {
  await uploads.remove();
});

describe.each(FRAMEWORKS)('store.middleware() under $name', (framework) => {
  it('makes the store current in later middleware', async () => {
    const app = framework.create().use(a.middleware()).use(report);
    const response = await request(app.listener).get('/anything').expect(200);
    expect(response.body).toMatchObject({ store: 'a' });
  });

  it('leaves requests that did not pass through it without a store', async () => {
    const app = framework.create().use('/with', a.middleware()).use(report);
    const response = await request(app.listener).get('/without').expect(200);
    expect(response.body).toMatchObject({ store: 'E_NO_STORE_CONTEXT' });
  });

  it('keeps the store current after the JSON body parser', async () => {
    const app = framework.create().use(a.middleware()).use(framework.json()).use(report);
    const response = await request(app.listener)
      .post('/json')
      .send({ hello: 'world', list: Array.from({ length: 2000 }, (_, i) => i) })
      .expect(200);
    expect(response.body).toMatchObject({ store: 'a', body: { hello: 'world' } });
  });

  it.each([
    ['the JSON body parser', () => framework.json()],
    ['a parser that listens to request events without binding them', () => eventParser],
  ])('keeps the store current when the body arrives after %s started waiting', async (_, make) => {
    // The body is sent only once the parser listens, so its stream events come from the
    // socket, outside any context the middleware opened.
    let parserWaiting!: () => void;
    const waiting = new Promise<void>((resolve) => (parserWaiting = resolve));
    const json = make();
    const app = framework
      .create()
      .use(a.middleware())
      .use((req, res, next) => {
        json(req, res, next);
        setImmediate(parserWaiting);
      })
      .use(report);
    const server = createServer(app.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = JSON.stringify({ late: true });
      const response = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: '/late',
            headers: { 'content-type': 'application/json', 'content-length': body.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve(Buffer.concat(chunks).toString()));
          },
        );
        req.on('error', reject);
        req.flushHeaders();
        void waiting.then(() => req.end(body));
      });
      expect(JSON.parse(response)).toMatchObject({ store: 'a', body: { late: true } });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    ['memory', () => multer({ storage: multer.memoryStorage() })],
    ['disk', () => multer({ dest: uploads.path })],
  ])(
    'keeps the store current after multer (%s storage) parsed a multipart body',
    async (_, make) => {
      const upload = make().single('file') as unknown as Handler;
      const app = framework.create().use(b.middleware()).use(upload).use(report);
      const bytes = Buffer.alloc(300_000, 7);
      const response = await request(app.listener)
        .post('/upload')
        .field('caption', 'a cat')
        .attach('file', bytes, { filename: 'cat.png', contentType: 'image/png' })
        .expect(200);
      expect(response.body).toMatchObject({
        store: 'b',
        body: { caption: 'a cat' },
        fileSize: bytes.length,
      });
    },
  );

  it.each([
    ['the JSON body parser', () => framework.json()],
    ['an event-based parser', () => eventParser],
  ])(
    'lets an inner store middleware (mounted at a path) override an outer one, after %s',
    async (_, make) => {
      const app = framework
        .create()
        .use(a.middleware())
        .use('/b', b.middleware())
        .use(make())
        .use(report);
      const inner = await request(app.listener).post('/b/x').send({ n: 1 }).expect(200);
      expect(inner.body).toMatchObject({ store: 'b', body: { n: 1 } });
      const outer = await request(app.listener).post('/x').send({ n: 2 }).expect(200);
      expect(outer.body).toMatchObject({ store: 'a', body: { n: 2 } });
    },
  );

  it('never mixes the stores of concurrent requests', async () => {
    // Each request waits, inside its handler, until the other one has arrived. Promise
    // continuations run in the context of whoever awaits them, as a real handler's would.
    const arrived = new Set<string>();
    let open!: () => void;
    const bothArrived = new Promise<void>((resolve) => (open = resolve));
    const barrier: Handler = (req, _res, next) => {
      arrived.add(req.url ?? '');
      if (arrived.size === 2) open();
      void bothArrived.then(() => sleep(arrived.size)).then(() => next());
    };
    const app = framework
      .create()
      .use('/a', a.middleware())
      .use('/b', b.middleware())
      .use(framework.json())
      .use(barrier)
      .use(report);
    const [first, second] = await Promise.all([
      request(app.listener).post('/a/1').send({ from: 'a' }),
      request(app.listener).post('/b/1').send({ from: 'b' }),
    ]);
    expect(first.body).toMatchObject({ store: 'a', body: { from: 'a' } });
    expect(second.body).toMatchObject({ store: 'b', body: { from: 'b' } });
  });
});
