/**
 * Hostile input through `uploadImage` + `attachImage` on a real server: each generated file and
 * each malformed request gets the right status, nothing is stored (or, for valid images with
 * lying claims, exactly the image, typed by its bytes), no temporary file is left, and the
 * server still answers.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  attachImage,
  FileSystemStore,
  ProcessingQueue,
  storeContext,
  uploadImage,
  type AttachedImage,
} from '../../src/index.js';
import { decoderPids, decoderPoolFor, stopDecoders } from '../../src/images/decoder-pool.js';
import { defaultProcessingQueue } from '../../src/images/queue.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { checkInvariants } from '../support/invariants.js';
import { makeTempDir } from '../support/temp-dir.js';
import { listDir } from '../middleware/upload-fixtures.js';
import { defineModels, type Models } from '../models/models.js';
import { animatedWebp, hostileFiles, validSamples, type HostileFile } from './hostile-files.js';
import { BOUNDARY, multipart } from './multipart.js';

let db: TestDatabase;
let models: Models;
let store: FileSystemStore;
let tmp: { path: string; remove: () => Promise<void> };
let storeDir: { path: string; remove: () => Promise<void> };
let server: Server;
let port: number;
/** The queue of the route with a short decode limit (its pool is its own). */
const slowQueue = new ProcessingQueue({ concurrency: 1 });
const SLOW_DECODE_TIMEOUT = 1000;

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  models = defineModels(db.sequelize);
  await db.sequelize.sync({ force: true });
  await models.User.create();
  tmp = await makeTempDir('hostile-tmp');
  storeDir = await makeTempDir('hostile-store');
  store = new FileSystemStore({ path: storeDir.path, baseUrl: 'http://x.test/' });
  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.post(
    '/users/:id/picture',
    uploadImage({
      field: 'picture',
      tmpDir: tmp.path,
      maxFileSize: 4 * 1024 * 1024,
      maxFieldSize: 1024,
      formats: ['jpeg', 'png', 'webp', 'avif', 'gif', 'svg'],
    }),
    attachImage({
      to: async (req) => (await models.User.findByPk(req.params.id))?.picture,
      store,
      thumbnails: [{ width: 16 }],
    }),
    (_req: IncomingMessage, res: ServerResponse & { locals: { image: AttachedImage } }) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ mimetype: res.locals.image.mimetype }));
    },
  );
  app.post(
    '/slow',
    uploadImage({
      field: 'picture',
      tmpDir: tmp.path,
      maxTotalPixels: 10_000_000_000,
      decodeTimeout: SLOW_DECODE_TIMEOUT,
      queue: slowQueue,
    }),
    (_req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('Content-Type', 'application/json');
      res.end('{}');
    },
  );
  app.use((err: unknown, _req: IncomingMessage, res: ServerResponse, _next: unknown) => {
    res.statusCode = 500;
    res.end(JSON.stringify({ unhandled: String(err) }));
  });
  // A slow client is cut off after a second (Node's default is five minutes).
  server = createServer({ requestTimeout: 1000, connectionsCheckingInterval: 100 }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  stopDecoders();
  // No decoder child of this process is left.
  await vi.waitFor(() => expect(decoderPids()).toEqual([]));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await db.close();
  await tmp.remove();
  await storeDir.remove();
});

const post = (body: Buffer, contentType = `multipart/form-data; boundary=${BOUNDARY}`) =>
  request(server).post('/users/1/picture').set('Content-Type', contentType).send(body);

/**
 * CPU microseconds `send` costs this process (server and client) and the decoder children of
 * `queue`.
 */
async function cpuOf<T>(send: () => PromiseLike<T>, queue = defaultProcessingQueue()) {
  const pool = decoderPoolFor(queue);
  const [before, childBefore] = [process.cpuUsage(), pool.usage.cpu];
  const result = await send();
  const { user, system } = process.cpuUsage(before);
  return { result, cpu: user + system + pool.usage.cpu - childBefore };
}

/** Nothing stored, no temporary file, and the server answers. */
async function expectNothingLeft(context: string) {
  const { problems, state } = await checkInvariants(store, db.sequelize);
  expect(problems, context).toEqual([]);
  expect(state.rows.size, context).toBe(0);
  expect(state.files.size, context).toBe(0);
  await vi.waitFor(async () => expect(await listDir(tmp.path), context).toEqual([]));
  expect((await request(server).get('/health')).status, context).toBe(200);
}

const tally = { files: 0, refused: 0, accepted: 0, malformed: 0, maxRefusalCpu: 0 };

describe('generated hostile files', async () => {
  const files = await hostileFiles();
  test('there are at least 40', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  test.each(files.map((file) => ({ file, name: file.name })))('$name', async ({ file }) => {
    const body = multipart([
      { name: 'picture', filename: file.filename, contentType: file.contentType, data: file.bytes },
    ]);
    const { result: res, cpu } = await cpuOf(() => post(body));
    tally.files += 1;
    const expected: HostileFile['expect'] = file.expect;
    if ('accepted' in expected) {
      tally.accepted += 1;
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ mimetype: expected.accepted });
      const { problems, state } = await checkInvariants(store, db.sequelize);
      expect(problems).toEqual([]);
      expect([...state.rows.values()].map((row) => row.original).sort()).toEqual([false, true]);
      expect(existsSync('/tmp/evil.gif')).toBe(false);
      await storeContext(store, () => models.UserPicture.destroy({ where: {} }));
      await expectNothingLeft(file.name);
      return;
    }
    tally.refused += 1;
    // Every refusal, bombs included, within 2 s of CPU (server, client and decoder child).
    expect(cpu).toBeLessThan(2_000_000);
    tally.maxRefusalCpu = Math.max(tally.maxRefusalCpu, cpu);
    expect({
      status: res.status,
      code: (res.body as { error?: { code?: string } }).error?.code,
    }).toEqual(expected);
    await expectNothingLeft(file.name);
  });
});

describe('the decode time limit', () => {
  const postSlow = (data: Buffer) =>
    request(server)
      .post('/slow')
      .set('Content-Type', `multipart/form-data; boundary=${BOUNDARY}`)
      .send(multipart([{ name: 'picture', filename: 'x.webp', contentType: 'image/webp', data }]));

  test('stops a decode that runs past decodeTimeout: 422, the child killed, then a new one', async () => {
    // Within every limit but maxTotalPixels (raised on this route): about a minute of decoding.
    const bomb = await animatedWebp(7000, 7000, 100);
    const before = new Set(decoderPids());
    const warm = await postSlow((await validSamples()).webp);
    expect(warm.status).toBe(200);
    const [child] = decoderPids().filter((pid) => !before.has(pid));
    expect(child).toBeDefined();
    const { result: res, cpu } = await cpuOf(() => postSlow(bomb), slowQueue);
    expect({
      status: res.status,
      code: (res.body as { error?: { code?: string } }).error?.code,
    }).toEqual({ status: 422, code: 'E_IMAGE_DECODE_TIMEOUT' });
    // This process's CPU; the child's is bounded by the limit, and it is gone.
    expect(cpu).toBeLessThan(2_000_000);
    await vi.waitFor(() => expect(decoderPids()).not.toContain(child));
    expect(() => process.kill(child!, 0)).toThrow();
    await expectNothingLeft('decode timeout');
    const again = await postSlow((await validSamples()).webp);
    expect(again.status).toBe(200);
    expect(decoderPids().filter((pid) => !before.has(pid) && pid !== child)).toHaveLength(1);
  });
});

describe('malformed multipart', () => {
  let png: Buffer;
  beforeAll(async () => {
    png = (await validSamples()).png;
  });
  const picture = () => ({
    name: 'picture',
    filename: 'a.png',
    contentType: 'image/png',
    data: png,
  });

  test.each([
    [
      'no boundary',
      () => post(multipart([picture()]), 'multipart/form-data'),
      400,
      'E_UPLOAD_MALFORMED',
    ],
    [
      'an empty boundary',
      () => post(multipart([picture()]), 'multipart/form-data; boundary='),
      400,
      'E_UPLOAD_MISSING_FILE',
    ],
    [
      'a wrong boundary',
      () => post(multipart([picture()], 'other-boundary')),
      400,
      'E_UPLOAD_MALFORMED',
    ],
    ['not multipart at all', () => post(png, 'image/png'), 400, 'E_UPLOAD_MALFORMED'],
    [
      'a part with no name',
      () => post(multipart([{ ...picture(), name: undefined }])),
      400,
      'E_UPLOAD_MALFORMED',
    ],
    [
      'a file in another field',
      () => post(multipart([{ ...picture(), name: 'avatar' }])),
      400,
      'E_UPLOAD_UNEXPECTED_FILE',
    ],
    [
      'two files in the single-file field',
      () => post(multipart([picture(), picture()])),
      413,
      'E_UPLOAD_TOO_MANY_FILES',
    ],
    [
      'a 10 MB text field',
      () =>
        post(
          multipart([{ name: 'caption', data: Buffer.alloc(10 * 1024 * 1024, 0x61) }, picture()]),
        ),
      413,
      'E_UPLOAD_FIELD_TOO_LARGE',
    ],
    [
      'no file, only fields',
      () => post(multipart([{ name: 'caption', data: Buffer.from('hi') }])),
      400,
      'E_UPLOAD_MISSING_FILE',
    ],
    [
      'a body cut off inside the file',
      () => post(multipart([picture()], BOUNDARY, false).subarray(0, 150)),
      400,
      'E_UPLOAD_MALFORMED',
    ],
    [
      'a body cut off after the file',
      () => post(multipart([picture()], BOUNDARY, false)),
      400,
      'E_UPLOAD_MALFORMED',
    ],
    [
      'a part header smuggling a second header',
      () =>
        post(
          multipart([
            { ...picture(), filename: 'a.png"\r\nContent-Type: text/html\r\nX-Evil: "1' },
          ]),
        ),
      200,
      undefined,
    ],
  ] as const)('%s', async (name, send, status, code) => {
    const res = await send();
    tally.malformed += 1;
    expect({
      status: res.status,
      code: (res.body as { error?: { code?: string } }).error?.code,
    }).toEqual({ status, code });
    if (status === 200) await storeContext(store, () => models.UserPicture.destroy({ where: {} }));
    await expectNothingLeft(name);
  });

  test('a client that sends slowly and then stops is timed out, and leaves nothing', async () => {
    const body = multipart([picture()]);
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `POST /users/1/picture HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    // A few bytes at a time, then nothing more.
    for (let at = 0; at < 120; at += 20) {
      socket.write(body.subarray(at, at + 20));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await closed;
    tally.malformed += 1;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    await expectNothingLeft('slow client');
  });
});

afterAll(() => {
  console.log(
    `hostile input: ${tally.files} generated files (${tally.refused} refused, ${tally.accepted} ` +
      `stored by their bytes), ${tally.malformed} malformed requests; nothing else stored, no ` +
      `temporary file left; most CPU for one refusal ${(tally.maxRefusalCpu / 1000).toFixed(0)} ms`,
  );
});
