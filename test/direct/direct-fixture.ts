/**
 * An Express app with `directUploads` mounted for each user's picture, on a test bucket and a
 * test database, and the helpers a browser would use: ask for a ticket, post the file to S3,
 * complete.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import express, { type Request, type Response } from 'express';
import request from 'supertest';
import type { DirectUploadTicket, DirectUploadsOptions } from '../../src/s3.js';
import { attachedImage } from '../../src/index.js';
import { directUploads, S3Store, INCOMING_FOLDER } from '../../src/s3.js';
import { defineModels, type Models } from '../models/models.js';
import type { TestDatabase } from '../support/database.js';
import { createTestBucket, listKeys, s3StoreOptions, type TestBucket } from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';

export const SECRET = 'test-secret-of-at-least-thirty-two-bytes';

export interface DirectFixture {
  app: express.Express;
  server: Server;
  store: S3Store;
  bucket: TestBucket;
  models: Models;
  tmp: { path: string; remove: () => Promise<void> };
  close(): Promise<void>;
}

/** The user a request is from: the `X-User` header (a stand-in for a session). */
export const userOf = (req: IncomingMessage) => req.headers['x-user'];

export async function directFixture(
  db: TestDatabase,
  extra: Partial<DirectUploadsOptions> = {},
  storeOptions: Partial<ConstructorParameters<typeof S3Store>[0]> = {},
): Promise<DirectFixture> {
  const models = defineModels(db.sequelize);
  await db.reset();
  const bucket = await createTestBucket('direct');
  const store = new S3Store(s3StoreOptions(bucket.name, { acl: null, ...storeOptions }));
  const tmp = await makeTempDir('direct-tmp');
  const app = express();
  app.use(
    '/users/:id/picture/direct',
    directUploads({
      store,
      secret: SECRET,
      tmpDir: tmp.path,
      authorize: (req) => userOf(req) === (req as Request).params.id,
      to: async (req) => (await models.User.findByPk(String((req as Request).params.id)))?.picture,
      thumbnails: [{ width: 16 }],
      ...extra,
    }),
    (_req: Request, res: Response) => {
      const { url, width, height, mimetype, thumbnails } = attachedImage(res);
      res.json({ url, width, height, mimetype, thumbnails: thumbnails.map((t) => t.url) });
    },
  );
  app.use((err: unknown, _req: Request, res: Response, _next: unknown) => {
    res.status(500).json({ unhandled: String(err) });
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    app,
    server,
    store,
    bucket,
    models,
    tmp,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.destroy();
      await bucket.remove();
      await tmp.remove();
    },
  };
}

export function baseUrl(fixture: DirectFixture): string {
  return `http://127.0.0.1:${(fixture.server.address() as AddressInfo).port}`;
}

/** `POST …/direct` as `user` for the picture of user `id`. */
export async function ticketFor(fixture: DirectFixture, id: number, user = String(id)) {
  const res = await request(fixture.server).post(`/users/${id}/picture/direct`).set('X-User', user);
  return { res, ticket: res.body as DirectUploadTicket };
}

/** Posts `bytes` to S3 as a browser would, with the ticket's form. */
export async function postToS3(
  ticket: Pick<DirectUploadTicket, 'url' | 'fields'>,
  bytes: Uint8Array | Blob,
): Promise<globalThis.Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
  form.append('file', bytes instanceof Blob ? bytes : new Blob([bytes]));
  return fetch(ticket.url, { method: 'POST', body: form });
}

/** `POST …/direct/complete` with `token`. */
export function complete(fixture: DirectFixture, id: number, token: unknown, user = String(id)) {
  return request(fixture.server)
    .post(`/users/${id}/picture/direct/complete`)
    .set('X-User', user)
    .send(token === undefined ? {} : { token });
}

/** Ticket, post, complete: one whole upload of `bytes` for user `id`. */
export async function uploadDirectly(fixture: DirectFixture, id: number, bytes: Uint8Array) {
  const { ticket } = await ticketFor(fixture, id);
  const posted = await postToS3(ticket, bytes);
  if (!posted.ok) throw new Error(`S3 refused the post: ${posted.status} ${await posted.text()}`);
  return complete(fixture, id, ticket.token);
}

export function incomingKeys(fixture: DirectFixture): Promise<string[]> {
  return listKeys(fixture.bucket.client, fixture.bucket.name, `${INCOMING_FOLDER}/`);
}

/** Every key outside the incoming folder: the store's layout. */
export async function storedKeys(fixture: DirectFixture): Promise<string[]> {
  const keys = await listKeys(fixture.bucket.client, fixture.bucket.name);
  return keys.filter((key) => !key.startsWith(`${INCOMING_FOLDER}/`)).sort();
}

/** Deletes every object of the fixture's bucket (rows removed without hooks leave files). */
export async function emptyBucket(fixture: DirectFixture): Promise<void> {
  const { client, name } = fixture.bucket;
  for (const key of await listKeys(client, name)) {
    await client.send(new DeleteObjectCommand({ Bucket: name, Key: key }));
  }
}
