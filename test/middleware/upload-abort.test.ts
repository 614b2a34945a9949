/**
 * Clients that leave mid-upload: the temporary files go, and the server keeps serving.
 */
import { createServer, type Server } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import request from 'supertest';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProcessingQueue, uploadImage } from '../../src/index.js';
import type { UploadedRequest } from '../../src/http/upload.js';
import { FRAMEWORKS, sendJson, type Framework } from '../support/frameworks.js';
import { makeTempDir } from '../support/temp-dir.js';
import { listDir } from './upload-fixtures.js';

const BOUNDARY = 'upload-abort-boundary';
let photo: Buffer;
let tmp: { path: string; remove: () => Promise<void> };
let server: Server | undefined;

beforeAll(async () => {
  photo = await sharp({
    create: {
      width: 1200,
      height: 900,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .jpeg({ quality: 95 })
    .toBuffer();
});
beforeEach(async () => {
  tmp = await makeTempDir('upload-abort');
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await tmp.remove();
});

async function listen(framework: Framework, queue?: ProcessingQueue) {
  const app = framework.create();
  app.use('/upload', uploadImage({ field: 'picture', tmpDir: tmp.path, queue }));
  app.use('/upload', (req: IncomingMessage, res: ServerResponse) =>
    sendJson(res, { width: (req as UploadedRequest).file?.width }),
  );
  server = createServer(app.listener);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { app: app.listener, port: (server.address() as AddressInfo).port };
}

function multipartBody(bytes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="picture"; filename="a.jpg"\r\n` +
        'Content-Type: image/jpeg\r\n\r\n',
    ),
    bytes,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/** Opens a raw connection and sends the headers and the first `sent` bytes of the body. */
function sendPart(port: number, body: Buffer, sent: number) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(
    `POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`,
  );
  socket.write(body.subarray(0, sent));
  return socket;
}

describe.each(FRAMEWORKS)('uploadImage under $name, client leaving mid-upload', (framework) => {
  it('removes the partial temporary file when the client disconnects halfway', async () => {
    const { app, port } = await listen(framework);
    const body = multipartBody(photo);
    const socket = sendPart(port, body, Math.floor(body.length / 2));
    // Staging has begun once the temporary file exists.
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toHaveLength(1));
    socket.destroy();
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));

    const res = await request(app).post('/upload').attach('picture', photo, 'a.jpg');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ width: 1200 });
  });

  it('removes the staged file when the client leaves while it waits in the queue', async () => {
    const queue = new ProcessingQueue({ concurrency: 1, maxQueued: 4 });
    let release!: () => void;
    const blocker = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    const { port } = await listen(framework, queue);
    const body = multipartBody(photo);
    const socket = sendPart(port, body, body.length);
    await vi.waitFor(() => expect(queue.queued).toBe(1));
    expect(await listDir(tmp.path)).toHaveLength(1);
    socket.destroy();
    release();
    await blocker;
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
    await vi.waitFor(() => expect(queue.running + queue.queued).toBe(0));
  });
});
