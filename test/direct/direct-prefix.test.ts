/**
 * Direct uploads on a store with a key prefix (one bucket shared by several apps): the
 * incoming objects go under the prefix too, so the lifecycle rule and the cleanup stay inside
 * the store's part of the bucket, and a token for an incoming key of the bucket's root (another
 * store's) is refused.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signUploadToken } from '../../src/uploads/direct-token.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { listKeys } from '../support/s3.js';
import {
  complete,
  directFixture,
  postToS3,
  SECRET,
  ticketFor,
  type DirectFixture,
} from './direct-fixture.js';

const PREFIX = 'tenant-a';

let db: TestDatabase;
let fixture: DirectFixture;

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  fixture = await directFixture(db, {}, { prefix: PREFIX });
  await fixture.models.User.create({ id: 1 });
});
afterAll(async () => {
  await fixture?.close();
  await db?.close();
});

const allKeys = async () => (await listKeys(fixture.bucket.client, fixture.bucket.name)).sort();

it('puts the incoming object under the store’s prefix and completes it there', async () => {
  const { ticket } = await ticketFor(fixture, 1);
  expect(ticket.fields.key).toMatch(/^tenant-a\/\.imageattach-incoming\/[0-9a-f]{32}$/);
  const bytes = await sharp({ create: { width: 48, height: 32, channels: 3, background: '#753' } })
    .jpeg()
    .toBuffer();
  expect((await postToS3(ticket, bytes)).ok).toBe(true);
  const res = await complete(fixture, 1, ticket.token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(await allKeys()).toEqual([
    'tenant-a/user-picture/1/16x10.jpe',
    'tenant-a/user-picture/1/48x32.jpe',
  ]);
});

it('403 E_UPLOAD_TOKEN_INVALID for a signed token naming the root’s incoming folder', async () => {
  const id = 'b'.repeat(32);
  const token = signUploadToken(
    {
      id,
      objectType: 'user-picture',
      objectId: 1n,
      key: `.imageattach-incoming/${id}`,
      maxBytes: 1 << 20,
      expiresAt: new Date(Date.now() + 60_000),
    },
    Buffer.from(SECRET),
  );
  const res = await complete(fixture, 1, token);
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({ error: { code: 'E_UPLOAD_TOKEN_INVALID' } });
});
