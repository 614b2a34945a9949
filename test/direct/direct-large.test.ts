/**
 * A large image uploaded directly: the application's HTTP server receives only the ticket
 * request and the completion (bytes counted on its sockets), the bytes go browser → S3 and
 * S3 → staging file for the checks, and the server's memory stays flat. 100 MiB where the
 * S3 server is RGW (as in `.ci/run`) or with DIRECT_LARGE=1; 8 MiB otherwise, so `npm test`
 * stays quick.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import {
  complete,
  directFixture,
  incomingKeys,
  postToS3,
  storedKeys,
  ticketFor,
  type DirectFixture,
} from './direct-fixture.js';

const LARGE = process.env.S3_KIND === 'rgw' || process.env.DIRECT_LARGE === '1';
const MIB = 1024 * 1024;
const TARGET = (LARGE ? 100 : 8) * MIB;
// A stored (uncompressed) PNG of noise is 3 bytes a pixel, plus a byte a row.
const WIDTH = 6000;
const HEIGHT = Math.ceil(TARGET / (WIDTH * 3 + 1));

let db: TestDatabase;
let fixture: DirectFixture;
let files: { path: string; remove: () => Promise<void> };
let imagePath: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  fixture = await directFixture(db, {
    maxFileSize: 128 * MIB,
    maxPixels: 100_000_000,
    maxTotalPixels: 100_000_000,
    decodeTimeout: 60_000,
    thumbnails: [],
  });
  await fixture.models.User.create({ id: 1 });
  fixture.server.on('connection', (socket: Socket) => sockets.push(socket));
  files = await makeTempDir('direct-large');
  imagePath = join(files.path, 'large.png');
  await sharp({
    create: {
      width: WIDTH,
      height: HEIGHT,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .png({ compressionLevel: 0 })
    .toFile(imagePath);
}, 180_000);
afterAll(async () => {
  await fixture?.close();
  await db?.close();
  await files?.remove();
});

it(`takes a ${TARGET / MIB} MiB image without its bytes passing through the app's HTTP server, in flat memory`, async () => {
  const size = (await stat(imagePath)).size;
  expect(size).toBeGreaterThanOrEqual(TARGET);
  const { ticket } = await ticketFor(fixture, 1);
  // The file is read from disk as it is sent, as a browser sends it.
  const posted = await postToS3(ticket, await openAsBlob(imagePath));
  expect(posted.ok).toBe(true);

  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const res = await complete(fixture, 1, ticket.token);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);

  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toMatchObject({ width: WIDTH, height: HEIGHT, mimetype: 'image/png' });
  expect(await storedKeys(fixture)).toEqual([`user-picture/1/${WIDTH}x${HEIGHT}.png`]);
  expect(await incomingKeys(fixture)).toEqual([]);
  const received = sockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
  console.log(
    `direct upload of ${(size / MIB).toFixed(1)} MiB: the app's server received ${received} bytes; ` +
      `rss grew ${((peak - baseline) / MIB).toFixed(1)} MiB while completing`,
  );
  expect(received).toBeLessThan(100_000);
  // Streamed to a staging file and decoded in a child process: nothing near the file's size.
  expect(peak - baseline).toBeLessThan(64 * MIB);
}, 300_000);
