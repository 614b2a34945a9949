/**
 * S3 failing while the incoming object is read (the connection cut half-way through the body,
 * or stalled there past the store's `socketTimeout`), or while it is copied into place in the
 * transaction: completing answers 503
 * `E_STORE_UNAVAILABLE`, not a 4xx blaming the upload and not a request that never ends;
 * nothing is stored, the token is not spent and the object stays, so the same completion
 * succeeds once S3 answers whole again.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { INCOMING_FOLDER } from '../../src/s3.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { s3StoreOptions } from '../support/s3.js';
import {
  complete,
  directFixture,
  incomingKeys,
  postToS3,
  storedKeys,
  ticketFor,
  type DirectFixture,
} from './direct-fixture.js';

type CutMode = 'whole' | 'reset' | 'stall' | 'copy';

/**
 * An HTTP proxy in front of the S3 server that sends half of the body of every GET of an
 * incoming object and then drops the connection (`reset`) or sends nothing more (`stall`), or
 * drops every server-side copy unanswered (`copy`).
 */
function cuttingProxy(
  upstream: string,
): Promise<{ server: Server; url: string; cut: { mode: CutMode } }> {
  const target = new URL(upstream);
  const cut: { mode: CutMode } = { mode: 'whole' };
  const server = createServer((req, res) => {
    if (cut.mode === 'copy' && req.headers['x-amz-copy-source'] !== undefined) {
      req.socket.destroy();
      return;
    }
    const forward = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const incoming = req.method === 'GET' && (req.url ?? '').includes(`/${INCOMING_FOLDER}/`);
        const length = Number(answer.headers['content-length'] ?? 0);
        if (cut.mode === 'whole' || cut.mode === 'copy' || !incoming || length < 2) {
          answer.pipe(res);
          return;
        }
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          const room = Math.floor(length / 2) - sent;
          if (room > 0) res.write(chunk.subarray(0, room));
          sent += chunk.length;
          if (sent >= length / 2) {
            answer.destroy();
            if (cut.mode === 'reset') res.socket?.destroy();
          }
        });
      },
    );
    forward.on('error', () => res.socket?.destroy());
    req.pipe(forward);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        cut,
      }),
    ),
  );
}

let db: TestDatabase;
let fixture: DirectFixture;
let proxy: Awaited<ReturnType<typeof cuttingProxy>>;

beforeAll(async () => {
  proxy = await cuttingProxy(s3StoreOptions('unused').endpoint!);
  db = await databaseKinds()[0]!.open();
  fixture = await directFixture(
    db,
    {},
    { endpoint: proxy.url, maxAttempts: 1, socketTimeout: 1500 },
  );
  await fixture.models.User.bulkCreate([{ id: 1 }, { id: 2 }]);
});
afterAll(async () => {
  await fixture?.close();
  await db?.close();
  await new Promise<void>((resolve) => proxy?.server.close(() => resolve()));
});

/** Completes with S3 cut in `mode`: 503, and nothing of `user`'s stored. */
async function expectCutCompletion(mode: CutMode, user: number, token: string): Promise<void> {
  proxy.cut.mode = mode;
  const cut = await complete(fixture, user, token);
  proxy.cut.mode = 'whole';
  expect(cut.status).toBe(503);
  expect(cut.body).toMatchObject({ error: { code: 'E_STORE_UNAVAILABLE' } });
  expect(await fixture.models.UserPicture.count({ where: { userId: user } })).toBe(0);
  expect((await storedKeys(fixture)).filter((key) => key.includes(`/${user}/`))).toEqual([]);
}

/** Completes again with S3 whole: the original and its thumbnail stored, the object gone. */
async function expectWholeCompletion(user: number, token: string): Promise<void> {
  const done = await complete(fixture, user, token);
  expect(done.status).toBe(200);
  expect(await fixture.models.UserPicture.count({ where: { userId: user } })).toBe(2);
  expect(await incomingKeys(fixture)).toEqual([]);
}

it.each([
  ['reset', 1],
  ['stall', 2],
] as const)(
  'answers 503 when S3 %s the read, stores nothing, and completes once S3 is whole',
  async (mode, user) => {
    const bytes = await sharp({
      create: {
        width: 300,
        height: 200,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 60 },
      },
    })
      .jpeg()
      .toBuffer();
    const { ticket } = await ticketFor(fixture, user);
    expect((await postToS3(ticket, bytes)).ok).toBe(true);

    await expectCutCompletion(mode, user, ticket.token);
    expect(await incomingKeys(fixture)).toHaveLength(1);

    await expectWholeCompletion(user, ticket.token);
  },
);

it('answers 503 when S3 fails the copy into place: the transaction rolled back, the token and the object kept', async () => {
  const user = 3;
  await fixture.models.User.create({ id: user });
  const bytes = await sharp({ create: { width: 60, height: 40, channels: 3, background: '#246' } })
    .jpeg()
    .toBuffer();
  const { ticket } = await ticketFor(fixture, user);
  expect((await postToS3(ticket, bytes)).ok).toBe(true);

  await expectCutCompletion('copy', user, ticket.token);
  expect(await incomingKeys(fixture)).toEqual([ticket.fields.key]);

  await expectWholeCompletion(user, ticket.token);
});
