/**
 * Direct uploads end to end on the test S3 server and real databases: the ticket, the browser's
 * POST to S3, the completion through the upload checks and the server-side copy, and every
 * token problem answered 403 with nothing stored.
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import express, { type NextFunction, type Request, type Response } from 'express';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signUploadToken } from '../../src/uploads/direct-token.js';
import { FileSystemStore, MirrorStore } from '../../src/index.js';
import { directUploads, S3SandboxStore, S3Store } from '../../src/s3.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { s3StoreOptions } from '../support/s3.js';
import { listDir } from '../middleware/upload-fixtures.js';
import {
  complete,
  directFixture,
  emptyBucket,
  incomingKeys,
  postToS3,
  SECRET,
  storedKeys,
  ticketFor,
  uploadDirectly,
  type DirectFixture,
} from './direct-fixture.js';

const photo = (width: number, height: number) =>
  sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg()
    .toBuffer();

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.each(databaseKinds())('directUploads on $name', (kind) => {
  let db: TestDatabase;
  let fixture: DirectFixture;

  beforeAll(async () => {
    db = await kind.open();
    fixture = await directFixture(db, { formats: ['jpeg', 'png', 'svg'] });
  });
  afterAll(async () => {
    await fixture?.close();
    await db?.close();
  });
  beforeEach(async () => {
    await fixture.models.UserPicture.destroy({ where: {}, hooks: false });
    await fixture.models.User.destroy({ where: {} });
    await fixture.models.User.bulkCreate([{ id: 1 }, { id: 2 }]);
    await emptyBucket(fixture);
  });

  /** Nothing stored: no row, no object in the layout or the incoming folder, no temp file. */
  async function expectNothingStored() {
    expect(await fixture.models.UserPicture.count()).toBe(0);
    expect(await storedKeys(fixture)).toEqual([]);
    expect(await incomingKeys(fixture)).toEqual([]);
    expect(await listDir(fixture.tmp.path)).toEqual([]);
  }

  it('answers a presigned POST for one private, opaque object under the incoming prefix', async () => {
    const { res, ticket } = await ticketFor(fixture, 1);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(ticket.fields.key).toMatch(/^\.imageattach-incoming\/[0-9a-f]{32}$/);
    expect(ticket.fields).toMatchObject({
      acl: 'private',
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': 'attachment',
    });
    expect(ticket.maxBytes).toBe(20 * 1024 * 1024);
    const policy = JSON.parse(Buffer.from(ticket.fields.Policy!, 'base64').toString()) as {
      expiration: string;
      conditions: unknown[];
    };
    expect(policy.conditions).toContainEqual(['content-length-range', 1, 20 * 1024 * 1024]);
    expect(policy.conditions).toContainEqual({ key: ticket.fields.key });
    const lifetime = Date.parse(policy.expiration) - Date.now();
    expect(lifetime).toBeGreaterThan(9 * 60 * 1000);
    expect(lifetime).toBeLessThanOrEqual(10 * 60 * 1000);
    expect(Date.parse(ticket.expiresAt)).toBe(Date.parse(policy.expiration));
    expect(ticket.token).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
  });

  it('stores a posted JPEG as the original, copied in S3 with its own metadata, with thumbnails', async () => {
    const bytes = await photo(120, 80);
    const { ticket } = await ticketFor(fixture, 1);
    const posted = await postToS3(ticket, bytes);
    expect(posted.ok).toBe(true);
    const incoming = await fixture.bucket.client.send(
      new HeadObjectCommand({ Bucket: fixture.bucket.name, Key: ticket.fields.key }),
    );
    expect(incoming.ContentType).toBe('application/octet-stream');

    const res = await complete(fixture, 1, ticket.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ width: 120, height: 80, mimetype: 'image/jpeg' });
    expect((res.body as { thumbnails: string[] }).thumbnails).toHaveLength(1);
    expect(await storedKeys(fixture)).toEqual([
      'user-picture/1/120x80.jpe',
      'user-picture/1/16x10.jpe',
    ]);
    expect(await incomingKeys(fixture)).toEqual([]);
    const head = await fixture.bucket.client.send(
      new HeadObjectCommand({ Bucket: fixture.bucket.name, Key: 'user-picture/1/120x80.jpe' }),
    );
    expect(head.ContentType).toBe('image/jpeg');
    expect(head.CacheControl).toBe(`max-age=${fixture.store.maxAge}`);
    expect(head.ContentDisposition).toBeUndefined();
    const stored = await fixture.store.getFile('user-picture', 1, 120, 80, 'image/jpeg');
    const chunks: Buffer[] = [];
    for await (const chunk of stored) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(bytes));
    const rows = await fixture.models.UserPicture.findAll({ where: { userId: 1 } });
    expect(rows.map((row) => [row.width, row.height, row.original])).toEqual(
      expect.arrayContaining([
        [120, 80, true],
        [16, 10, false],
      ]),
    );
    expect(await listDir(fixture.tmp.path)).toEqual([]);
  });

  it('stores an SVG with Content-Disposition: attachment', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/></svg>',
    );
    const res = await uploadDirectly(fixture, 1, svg);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ mimetype: 'image/svg+xml', width: 40, height: 20 });
    const head = await fixture.bucket.client.send(
      new HeadObjectCommand({ Bucket: fixture.bucket.name, Key: 'user-picture/1/40x20.svg' }),
    );
    expect(head.ContentType).toBe('image/svg+xml');
    expect(head.ContentDisposition).toBe('attachment');
    expect(await incomingKeys(fixture)).toEqual([]);
  });

  it('refuses what uploadImage refuses, with its code, and deletes the incoming object', async () => {
    const cases: Array<[Buffer, number, string]> = [
      [Buffer.from('hello, not an image\n'), 415, 'E_NOT_AN_IMAGE'],
      [
        await sharp(await photo(64, 48))
          .gif()
          .toBuffer(),
        415,
        'E_IMAGE_TYPE_NOT_ALLOWED',
      ],
      [(await photo(64, 48)).subarray(0, 400), 422, 'E_IMAGE_TRUNCATED'],
    ];
    for (const [bytes, status, code] of cases) {
      const res = await uploadDirectly(fixture, 1, bytes);
      expect([res.status, (res.body as { error?: { code?: string } }).error?.code]).toEqual([
        status,
        code,
      ]);
    }
    await expectNothingStored();
  });

  it('answers 400 E_DIRECT_UPLOAD_MISSING when nothing was posted, and the token stays usable', async () => {
    const { ticket } = await ticketFor(fixture, 1);
    const res = await complete(fixture, 1, ticket.token);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'E_DIRECT_UPLOAD_MISSING' } });
    await expectNothingStored();
    expect((await postToS3(ticket, await photo(30, 20))).ok).toBe(true);
    expect((await complete(fixture, 1, ticket.token)).status).toBe(200);
  });

  describe('tokens', () => {
    it('403 E_UPLOAD_TOKEN_INVALID without a token, or with a malformed one', async () => {
      for (const token of [undefined, 'nonsense', 42, 'v1.abc.def']) {
        const res = await complete(fixture, 1, token);
        expect(res.status, String(token)).toBe(403);
        expect(res.body).toMatchObject({ error: { code: 'E_UPLOAD_TOKEN_INVALID' } });
      }
      await expectNothingStored();
    });

    it('403 E_UPLOAD_TOKEN_INVALID for a forged signature or payload', async () => {
      const { ticket } = await ticketFor(fixture, 1);
      expect((await postToS3(ticket, await photo(30, 20))).ok).toBe(true);
      const [version, body, signature] = ticket.token.split('.') as [string, string, string];
      const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
      const otherSecret = signUploadToken(
        {
          id: ticket.fields.key!.split('/').at(-1)!,
          objectType: 'user-picture',
          objectId: 1n,
          key: ticket.fields.key!,
          maxBytes: 1 << 30,
          expiresAt: new Date(Date.now() + 60_000),
        },
        Buffer.from('another-secret-of-at-least-thirty-two-bytes'),
      );
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as unknown[];
      payload[4] = 1 << 30; // a larger maxBytes, kept with the old signature
      const tampered = `${version}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
      for (const token of [`${version}.${body}.${flipped}`, otherSecret, tampered]) {
        const res = await complete(fixture, 1, token);
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: { code: 'E_UPLOAD_TOKEN_INVALID' } });
      }
      expect(await fixture.models.UserPicture.count()).toBe(0);
      // The genuine token still works: the forgeries spent nothing.
      expect((await complete(fixture, 1, ticket.token)).status).toBe(200);
    });

    it('403 E_UPLOAD_TOKEN_EXPIRED after the expiry; its incoming object is deleted', async () => {
      const { ticket } = await ticketFor(fixture, 1);
      expect((await postToS3(ticket, await photo(30, 20))).ok).toBe(true);
      const expired = signUploadToken(
        {
          id: ticket.fields.key!.split('/').at(-1)!,
          objectType: 'user-picture',
          objectId: 1n,
          key: ticket.fields.key!,
          maxBytes: ticket.maxBytes,
          expiresAt: new Date(Date.now() - 1000),
        },
        Buffer.from(SECRET),
      );
      const res = await complete(fixture, 1, expired);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: 'E_UPLOAD_TOKEN_EXPIRED' } });
      await expectNothingStored();
    });

    it('403 E_UPLOAD_TOKEN_USED when a token is completed twice; the first image stays', async () => {
      const { ticket } = await ticketFor(fixture, 1);
      expect((await postToS3(ticket, await photo(30, 20))).ok).toBe(true);
      expect((await complete(fixture, 1, ticket.token)).status).toBe(200);
      // The same object posted again under the same token (the POST is still valid).
      expect((await postToS3(ticket, await photo(50, 20))).ok).toBe(true);
      const again = await complete(fixture, 1, ticket.token);
      expect(again.status).toBe(403);
      expect(again.body).toMatchObject({ error: { code: 'E_UPLOAD_TOKEN_USED' } });
      expect(await storedKeys(fixture)).toEqual([
        'user-picture/1/16x10.jpe',
        'user-picture/1/30x20.jpe',
      ]);
    });

    it('completes a token once when two completions race: one 200, one 403 E_UPLOAD_TOKEN_USED', async () => {
      const { ticket } = await ticketFor(fixture, 1);
      expect((await postToS3(ticket, await photo(30, 20))).ok).toBe(true);
      const answers = await Promise.all([
        complete(fixture, 1, ticket.token),
        complete(fixture, 1, ticket.token),
      ]);
      const outcomes = answers
        .map((res) => [res.status, (res.body as { error?: { code?: string } }).error?.code])
        .sort();
      expect(outcomes).toEqual([
        [200, undefined],
        [403, 'E_UPLOAD_TOKEN_USED'],
      ]);
      expect(await fixture.models.UserPicture.count()).toBe(2);
      expect(await storedKeys(fixture)).toEqual([
        'user-picture/1/16x10.jpe',
        'user-picture/1/30x20.jpe',
      ]);
      expect(await incomingKeys(fixture)).toEqual([]);
    });

    it("403 for another user's set: E_UPLOAD_TOKEN_MISMATCH on one's own URL, E_FORBIDDEN on theirs", async () => {
      const { ticket } = await ticketFor(fixture, 1);
      expect((await postToS3(ticket, await photo(30, 20))).ok).toBe(true);
      const mine = await complete(fixture, 2, ticket.token, '2');
      expect(mine.status).toBe(403);
      expect(mine.body).toMatchObject({ error: { code: 'E_UPLOAD_TOKEN_MISMATCH' } });
      const theirs = await complete(fixture, 1, ticket.token, '2');
      expect(theirs.status).toBe(403);
      expect(theirs.body).toMatchObject({ error: { code: 'E_FORBIDDEN' } });
      const start = await ticketFor(fixture, 1, '2');
      expect(start.res.status).toBe(403);
      expect(await fixture.models.UserPicture.count()).toBe(0);
      expect(await storedKeys(fixture)).toEqual([]);
    });

    it('403 E_UPLOAD_TOKEN_INVALID for a signed token whose key is outside the incoming prefix', async () => {
      // Placed by someone else under the store's layout: completing it must not adopt it.
      await fixture.store.putFile(
        await photo(30, 20),
        'user-picture',
        2,
        30,
        20,
        'image/jpeg',
        false,
      );
      const id = 'a'.repeat(32);
      for (const key of [
        'user-picture/2/30x20.jpe',
        `elsewhere/${id}`,
        `.imageattach-incoming/../${id}`,
      ]) {
        const token = signUploadToken(
          {
            id,
            objectType: 'user-picture',
            objectId: 1n,
            key,
            maxBytes: 1 << 20,
            expiresAt: new Date(Date.now() + 60_000),
          },
          Buffer.from(SECRET),
        );
        const res = await complete(fixture, 1, token);
        expect(res.status, key).toBe(403);
        expect(res.body).toMatchObject({ error: { code: 'E_UPLOAD_TOKEN_INVALID' } });
      }
      expect(await fixture.models.UserPicture.count()).toBe(0);
      expect(await storedKeys(fixture)).toEqual(['user-picture/2/30x20.jpe']);
    });
  });

  it('415 E_UNSUPPORTED_MEDIA_TYPE for a completion that is not JSON (a cross-site form)', async () => {
    const res = await fetch(
      `http://127.0.0.1:${(fixture.server.address() as { port: number }).port}/users/1/picture/direct/complete`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-User': '1' },
        body: 'token=x',
      },
    );
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'E_UNSUPPORTED_MEDIA_TYPE',
    );
  });
});

describe('directUploads options', () => {
  const store = new S3Store(s3StoreOptions('unused'));
  const valid = {
    store,
    secret: SECRET,
    authorize: () => true,
    to: () => null,
  };
  it.each([
    ['store', { store: {} }],
    ['secret', { secret: 'short' }],
    ['authorize', { authorize: undefined }],
    ['to', { to: undefined }],
    ['expiresIn', { expiresIn: 0 }],
    ['thumbnails', { thumbnails: 'big' }],
    ['maxFileSize', { maxFileSize: -1 }],
    ['later', { later: {} }],
  ])('E_INVALID_OPTION naming %s', (option, change) => {
    expect(() => directUploads({ ...valid, ...change } as never)).toThrowError(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option }),
    );
  });

  // Browsers post to one bucket, and completion copies inside it: no other store can do that.
  const disk = new FileSystemStore({ path: '/nonexistent', baseUrl: 'http://x/' });
  it.each([
    ['FileSystemStore', disk],
    [
      'S3SandboxStore',
      new S3SandboxStore({
        underlying: s3StoreOptions('unused-a'),
        overriding: s3StoreOptions('unused-b'),
      }),
    ],
    ['MirrorStore over S3', new MirrorStore({ primary: store, mirrors: [disk] })],
  ])('E_INVALID_OPTION naming store for a %s', (_name, other) => {
    expect(() => directUploads({ ...valid, store: other } as never)).toThrowError(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'store' }),
    );
  });

  it("errors: 'next' hands the 4xx to the app's error handler instead of answering", async () => {
    const app = express();
    app.use('/direct', directUploads({ ...valid, authorize: () => false, errors: 'next' }));
    const seen: unknown[] = [];
    app.use(
      (
        err: { code?: string; status?: number },
        _req: Request,
        res: Response,
        _next: NextFunction,
      ) => {
        seen.push([err.status, err.code]);
        res.status(418).json({ handled: err.code });
      },
    );
    const start = await request(app).post('/direct');
    const done = await request(app).post('/direct/complete').send({ token: 'forged' });
    expect([start.status, done.status]).toEqual([418, 418]);
    expect(seen).toEqual([
      [403, 'E_FORBIDDEN'],
      [403, 'E_UPLOAD_TOKEN_INVALID'],
    ]);
  });
});
