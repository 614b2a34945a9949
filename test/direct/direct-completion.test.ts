/**
 * The completion's own answers beyond the token: the object replaced in S3 while it was
 * checked (400, nothing stored), a body that is not a JSON object (400), a set that does not
 * exist (404); and its order of work: the image decoded and its thumbnails rendered before
 * the write transaction, which holds no slot of the processing queue.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Request } from 'express';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { ProcessingQueue } from '../../src/index.js';
import type { DirectUploadTarget } from '../../src/s3.js';
import { listDir } from '../middleware/upload-fixtures.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import {
  complete,
  directFixture,
  emptyBucket,
  incomingKeys,
  postToS3,
  storedKeys,
  ticketFor,
  type DirectFixture,
} from './direct-fixture.js';

const photo = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } })
    .jpeg()
    .toBuffer();

/** What the wrapped set saw while the completion wrote. */
interface Seen {
  /** Queue slots taken when the original was stored (inside the transaction). */
  slotsInTransaction?: number;
  /** Whether every thumbnail came rendered into the transaction. */
  renderedAhead?: boolean;
}

let db: TestDatabase;
let fixture: DirectFixture;
// One slot, no waiting: a held slot makes the queue full.
const queue = new ProcessingQueue({ concurrency: 1, maxQueued: 0 });
const seen: Seen = {};
/** Run as the original is stored: after the check, before the copy. */
let beforeStore: (() => Promise<void>) | undefined;

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  fixture = await directFixture(db, {
    queue,
    // The user's picture, watched: each call goes to the real set.
    to: async (req) => {
      const id = String((req as Request).params.id);
      const set = (await fixture.models.User.findByPk(id))?.picture;
      if (set === undefined) return undefined;
      const watched: DirectUploadTarget = {
        sequelize: set.sequelize,
        fileOwner: () => set.fileOwner(),
        fromRawFile: async (source, options) => {
          seen.slotsInTransaction = queue.running;
          await beforeStore?.();
          return set.fromRawFile(source, options);
        },
        generateThumbnails: (sizes, options) => {
          seen.renderedAhead = sizes.every((size) => {
            const width = 'width' in size ? size.width : undefined;
            return (
              width !== undefined && options.rendered?.(width, width, 'image/jpeg') !== undefined
            );
          });
          return set.generateThumbnails(sizes, options);
        },
      };
      return watched;
    },
  });
});
afterAll(async () => {
  await fixture?.close();
  await db?.close();
});
beforeEach(async () => {
  beforeStore = undefined;
  delete seen.slotsInTransaction;
  delete seen.renderedAhead;
  await fixture.models.UserPicture.destroy({ where: {}, hooks: false });
  await fixture.models.User.destroy({ where: {} });
  await fixture.models.User.create({ id: 1 });
  await emptyBucket(fixture);
});

it('renders the thumbnails before the transaction, which holds no queue slot', async () => {
  // Square, so the 16-wide thumbnail is 16×16.
  const { ticket } = await ticketFor(fixture, 1);
  expect((await postToS3(ticket, await photo(64, 64, '#468'))).ok).toBe(true);
  const res = await complete(fixture, 1, ticket.token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(seen).toEqual({ slotsInTransaction: 0, renderedAhead: true });
  expect(await storedKeys(fixture)).toEqual([
    'user-picture/1/16x16.jpe',
    'user-picture/1/64x64.jpe',
  ]);
  expect(await incomingKeys(fixture)).toEqual([]);
});

it('400 E_UPLOAD_MALFORMED when the object is replaced after it was checked: nothing stored', async () => {
  const { ticket } = await ticketFor(fixture, 1);
  expect((await postToS3(ticket, await photo(40, 40, '#484'))).ok).toBe(true);
  beforeStore = async () => {
    // What a second post with the same form would do between the check and the copy.
    await fixture.bucket.client.send(
      new PutObjectCommand({
        Bucket: fixture.bucket.name,
        Key: ticket.fields.key!,
        Body: Buffer.from('<html><script>alert(1)</script></html>'),
      }),
    );
  };
  const res = await complete(fixture, 1, ticket.token);
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body).toMatchObject({ error: { code: 'E_UPLOAD_MALFORMED' } });
  expect(await fixture.models.UserPicture.count()).toBe(0);
  expect(await storedKeys(fixture)).toEqual([]);
  expect(await incomingKeys(fixture)).toEqual([]);
  expect(await listDir(fixture.tmp.path)).toEqual([]);
});

it('400 E_INVALID_BODY when the completion is not a JSON object of at most 8 KiB', async () => {
  for (const body of [
    '[1]',
    '{"token":',
    '"v1.a.b"',
    JSON.stringify({ token: 'x'.repeat(9000) }),
  ]) {
    const res = await request(fixture.server)
      .post('/users/1/picture/direct/complete')
      .set('X-User', '1')
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status, body.slice(0, 20)).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'E_INVALID_BODY' } });
  }
});

it('404 E_ATTACH_TARGET_NOT_FOUND for a set that does not exist; no ticket', async () => {
  const { res } = await ticketFor(fixture, 99);
  expect(res.status).toBe(404);
  expect(res.body).toMatchObject({ error: { code: 'E_ATTACH_TARGET_NOT_FOUND' } });
  expect(res.body).not.toHaveProperty('token');
});

it('503 E_QUEUE_FULL while the queue is full, spending no token; the same token completes after', async () => {
  const { ticket } = await ticketFor(fixture, 1);
  expect((await postToS3(ticket, await photo(32, 32, '#834'))).ok).toBe(true);
  let release = () => {};
  const held = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
  const full = await complete(fixture, 1, ticket.token);
  release();
  await held;
  expect(full.status).toBe(503);
  expect(full.body).toMatchObject({ error: { code: 'E_QUEUE_FULL' } });
  expect(full.headers['retry-after']).toBe(String(queue.retryAfter));
  expect(await fixture.models.UserPicture.count()).toBe(0);
  expect(await incomingKeys(fixture)).toEqual([ticket.fields.key]);

  const done = await complete(fixture, 1, ticket.token);
  expect(done.status).toBe(200);
  expect(await incomingKeys(fixture)).toEqual([]);
});
