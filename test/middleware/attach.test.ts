/**
 * uploadImage + attachImage end to end: real SQLite (and PostgreSQL with DATABASE_URL), the
 * file-system store and S3, under Express 5 and Express 4. Every refusal and failure ends with
 * the store, the database and the temporary folder exactly as they were.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express, { type Response } from 'express';
import express4 from 'express4';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  attachedImage,
  attachImage,
  ProcessingQueue,
  StoreError,
  uploadImage,
  type AttachedImage,
  type AttachImageOptions,
  type FileInput,
  type Store,
  type UploadImageOptions,
} from '../../src/index.js';
import { FailingStore } from '../models/failing-store.js';
import { defineModels, type Models } from '../models/models.js';
import { storeKinds, type StoreFixture } from '../models/stores.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { listDir } from './upload-fixtures.js';

const EXPRESSES = [
  { name: 'Express 5', create: () => express() },
  { name: 'Express 4', create: () => express4() },
];
const THUMBNAILS = [{ width: 100 }, { height: 40 }];

/** A noise JPEG of the given size: distinct sizes make distinct, recognisable uploads. */
function photo(width: number, height: number): Promise<Buffer> {
  return sharp({
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
}

/** Fails the n-th put (1-based) from now on, to fail a request after its original is stored. */
class FailNthPut extends FailingStore {
  puts = 0;
  failAt = 0;

  override async putFile(
    file: FileInput,
    ...key: [string, bigint | number, number, number, string, boolean]
  ) {
    this.puts += 1;
    if (this.puts === this.failAt) throw new StoreError('put failed on purpose', key[0]);
    return super.putFile(file, ...key);
  }
}

interface Answer {
  url?: string;
  width?: number;
  height?: number;
  mimetype?: string;
  thumbnails?: Array<{ url: string; width: number; height: number; mimetype: string }>;
  error?: { code: string; field?: string };
  unhandled?: string;
}
const answer = (res: request.Response) => res.body as Answer;

describe.each(databaseKinds())('attachImage on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());

  describe.each(storeKinds())('with the $name store', (storeKind) => {
    let fixture: StoreFixture;
    let store: FailNthPut;
    let tmp: { path: string; remove: () => Promise<void> };

    beforeEach(async () => {
      await db.sequelize.sync({ force: true });
      fixture = await storeKind.open();
      store = new FailNthPut(fixture.store);
      tmp = await makeTempDir('attach-test');
    });
    afterEach(async () => {
      await fixture.cleanup();
      await tmp.remove();
    });

    /** What the store, the database and the temporary folder hold. */
    async function state() {
      const rows = await models.UserPicture.findAll({
        order: [
          ['userId', 'ASC'],
          ['width', 'ASC'],
        ],
      });
      return {
        files: await fixture.list(),
        rows: rows.map((r) => `${r.userId} ${r.width}x${r.height} ${r.mimetype} ${r.original}`),
        temp: await listDir(tmp.path),
      };
    }

    /** The files must be exactly those of the rows: nothing missing, nothing orphaned. */
    async function expectFilesMatchRows() {
      const images = [
        ...(await models.UserPicture.findAll()),
        ...(await models.PostPhoto.findAll()),
      ];
      expect(await fixture.list()).toEqual(images.map((image) => fixture.keyOf(image)).sort());
    }

    function app(
      framework: (typeof EXPRESSES)[number],
      options: {
        upload?: Partial<UploadImageOptions>;
        attach?: Partial<AttachImageOptions>;
        store?: Store;
      } = {},
    ) {
      const server = framework.create();
      server.use((options.store ?? store).middleware());
      const upload = () => uploadImage({ field: 'picture', tmpDir: tmp.path, ...options.upload });
      const reply = (_req: IncomingMessage, res: Response) => {
        const attached = attachedImage(res);
        const describe = ({
          url,
          width,
          height,
          mimetype,
        }: AttachedImage['thumbnails'][number]) => ({
          url,
          width,
          height,
          mimetype,
        });
        res.json({ ...describe(attached), thumbnails: attached.thumbnails.map(describe) });
      };
      server.post(
        '/users/:id/picture',
        upload(),
        attachImage({
          to: async (req) => (await models.User.findByPk(req.params.id))?.picture,
          thumbnails: THUMBNAILS,
          ...options.attach,
        }),
        reply,
      );
      server.post(
        '/posts/:id/photos/:index',
        upload(),
        attachImage({
          to: async (req) =>
            (await models.Post.findByPk(req.params.id))?.photos.getImageSet({
              orderIndex: Number(req.params.index),
            }),
          thumbnails: [{ width: 50 }],
          ...options.attach,
        }),
        reply,
      );
      server.use((err: unknown, _req: IncomingMessage, res: Response, _next: unknown) => {
        res.status(500).json({ unhandled: (err as { code?: string }).code ?? String(err) });
      });
      return server;
    }

    describe.each(EXPRESSES)('under $name', (framework) => {
      it('stores the original and its thumbnails in one go and describes them', async () => {
        const user = await models.User.create();
        const bytes = await photo(400, 300);
        const res = await request(app(framework))
          .post(`/users/${user.id}/picture`)
          .attach('picture', bytes, { filename: 'me.txt', contentType: 'text/plain' });
        expect(res.status).toBe(200);
        const original = await user.picture.requireOriginal();
        expect(answer(res)).toMatchObject({
          url: original.locate({ store }),
          width: 400,
          height: 300,
          mimetype: 'image/jpeg',
        });
        expect(answer(res).thumbnails?.map((t) => [t.width, t.height, t.mimetype])).toEqual([
          [100, 75, 'image/jpeg'],
          [53, 40, 'image/jpeg'],
        ]);
        expect(await user.picture.count()).toBe(3);
        expect(await original.makeBlob({ store })).toEqual(bytes);
        await expectFilesMatchRows();
        await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
      });

      it('attaches to one subset of a multiple set', async () => {
        const post = await models.Post.create();
        const res = await request(app(framework))
          .post(`/posts/${post.id}/photos/2`)
          .attach('picture', await photo(200, 100), 'a.jpg');
        expect(res.status).toBe(200);
        expect(await post.photos.getImageSet({ orderIndex: 2 }).count()).toBe(2);
        expect(await post.photos.getImageSet({ orderIndex: 1 }).count()).toBe(0);
        await expectFilesMatchRows();
      });

      it('replaces the whole old set', async () => {
        const user = await models.User.create();
        const server = app(framework);
        await request(server)
          .post(`/users/${user.id}/picture`)
          .attach('picture', await photo(400, 300), 'a.jpg');
        const res = await request(server)
          .post(`/users/${user.id}/picture`)
          .attach(
            'picture',
            await sharp(await photo(300, 200))
              .png()
              .toBuffer(),
            'b.png',
          );
        expect(res.status).toBe(200);
        expect((await state()).rows).toEqual([
          `${user.id} 60x40 image/png false`,
          `${user.id} 100x66 image/png false`,
          `${user.id} 300x200 image/png true`,
        ]);
        await expectFilesMatchRows();
      });

      describe('refusals and failures leave the store, the database and the temporary folder unchanged', () => {
        /** A user with a picture already, so "unchanged" is checked against a non-empty state. */
        async function withExistingPicture() {
          const user = await models.User.create();
          const res = await request(app(framework))
            .post(`/users/${user.id}/picture`)
            .attach('picture', await photo(120, 90), 'a.jpg');
          expect(res.status).toBe(200);
          await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
          return { user, before: await state() };
        }

        it.each([
          [
            '400 E_UPLOAD_MISSING_FILE',
            {},
            (r: request.Test) => r.field('x', 'y'),
            400,
            'E_UPLOAD_MISSING_FILE',
          ],
          [
            '413 E_UPLOAD_FILE_TOO_LARGE',
            { upload: { maxFileSize: 100 } },
            null,
            413,
            'E_UPLOAD_FILE_TOO_LARGE',
          ],
          [
            '415 E_NOT_AN_IMAGE',
            {},
            (r: request.Test) => r.attach('picture', Buffer.from('hello'), 'a.jpg'),
            415,
            'E_NOT_AN_IMAGE',
          ],
          [
            '415 E_IMAGE_TYPE_NOT_ALLOWED',
            { upload: { formats: ['png' as const] } },
            null,
            415,
            'E_IMAGE_TYPE_NOT_ALLOWED',
          ],
          [
            '422 E_IMAGE_TOO_MANY_PIXELS',
            { upload: { maxPixels: 100 } },
            null,
            422,
            'E_IMAGE_TOO_MANY_PIXELS',
          ],
        ])('%s', async (_name, options, send, status, code) => {
          const { user, before } = await withExistingPicture();
          const post = request(app(framework, options)).post(`/users/${user.id}/picture`);
          const res = await (send
            ? send(post)
            : post.attach('picture', await photo(400, 300), 'a.jpg'));
          expect(res.status).toBe(status);
          expect(answer(res).error?.code).toBe(code);
          expect(await state()).toEqual(before);
        });

        it('422 E_IMAGE_TRUNCATED', async () => {
          const { user, before } = await withExistingPicture();
          const bytes = await photo(400, 300);
          const res = await request(app(framework))
            .post(`/users/${user.id}/picture`)
            .attach('picture', bytes.subarray(0, bytes.length >> 1), 'a.jpg');
          expect(res.status).toBe(422);
          expect(answer(res).error?.code).toBe('E_IMAGE_TRUNCATED');
          expect(await state()).toEqual(before);
        });

        it('404 E_ATTACH_TARGET_NOT_FOUND when `to` finds nothing', async () => {
          const { before } = await withExistingPicture();
          const res = await request(app(framework))
            .post('/users/9999/picture')
            .attach('picture', await photo(400, 300), 'a.jpg');
          expect(res.status).toBe(404);
          expect(answer(res).error?.code).toBe('E_ATTACH_TARGET_NOT_FOUND');
          await vi.waitFor(async () => expect(await state()).toEqual(before));
        });

        it('503 E_QUEUE_FULL with Retry-After when the storing queue is full', async () => {
          const { user, before } = await withExistingPicture();
          const queue = new ProcessingQueue({ concurrency: 1, maxQueued: 0, retryAfter: 9 });
          let release!: () => void;
          const blocker = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
          try {
            const res = await request(app(framework, { attach: { queue } }))
              .post(`/users/${user.id}/picture`)
              .attach('picture', await photo(400, 300), 'a.jpg');
            expect(res.status).toBe(503);
            expect(res.headers['retry-after']).toBe('9');
            expect(answer(res).error?.code).toBe('E_QUEUE_FULL');
          } finally {
            release();
            await blocker;
          }
          await vi.waitFor(async () => expect(await state()).toEqual(before));
        });

        it('a client leaving halfway through the upload', async () => {
          const { user, before } = await withExistingPicture();
          const server = createServer(app(framework));
          await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
          try {
            const boundary = 'attach-abort';
            const body = Buffer.concat([
              Buffer.from(
                `--${boundary}\r\nContent-Disposition: form-data; name="picture"; ` +
                  'filename="a.jpg"\r\n\r\n',
              ),
              await photo(1200, 900),
            ]);
            const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
            socket.on('error', () => undefined);
            socket.write(
              `POST /users/${user.id}/picture HTTP/1.1\r\nHost: localhost\r\n` +
                `Content-Type: multipart/form-data; boundary=${boundary}\r\n` +
                `Content-Length: ${body.length + 100}\r\n\r\n`,
            );
            socket.write(body.subarray(0, body.length >> 1));
            await vi.waitFor(async () => expect(await listDir(tmp.path)).toHaveLength(1));
            socket.destroy();
            await vi.waitFor(async () => expect(await state()).toEqual(before));
          } finally {
            await new Promise((resolve) => server.close(resolve));
          }
        });

        it('a store failing after the original was written: 500, all rolled back, still serving', async () => {
          const { user, before } = await withExistingPicture();
          store.puts = 0;
          store.failAt = 2;
          const res = await request(app(framework))
            .post(`/users/${user.id}/picture`)
            .attach('picture', await photo(400, 300), 'a.jpg');
          expect(res.status).toBe(500);
          expect(answer(res).unhandled).toBe('E_STORE');
          await vi.waitFor(async () => expect(await state()).toEqual(before));

          store.failAt = 0;
          const again = await request(app(framework))
            .post(`/users/${user.id}/picture`)
            .attach('picture', await photo(400, 300), 'a.jpg');
          expect(again.status).toBe(200);
          await expectFilesMatchRows();
        });
      });
    });

    it('20 concurrent uploads to different parents each get their own set', async () => {
      const users = await Promise.all(Array.from({ length: 20 }, () => models.User.create()));
      const server = app(EXPRESSES[0]!);
      const responses = await Promise.all(
        users.map(async (user, i) =>
          request(server)
            .post(`/users/${user.id}/picture`)
            .attach('picture', await photo(200 + i, 100), 'a.jpg'),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(users.map(() => 200));
      for (const [i, user] of users.entries()) {
        const original = await user.picture.requireOriginal();
        expect(original.width).toBe(200 + i);
        expect(await user.picture.count()).toBe(3);
      }
      await expectFilesMatchRows();
      await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
    });

    it('10 concurrent replacements of one parent end with one consistent set', async () => {
      const user = await models.User.create();
      const uploads = await Promise.all(Array.from({ length: 10 }, (_, i) => photo(300 + i, 200)));
      const server = app(EXPRESSES[1]!);
      const responses = await Promise.all(
        uploads.map((bytes) =>
          request(server).post(`/users/${user.id}/picture`).attach('picture', bytes, 'a.jpg'),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(uploads.map(() => 200));
      const images = await user.picture.images();
      const original = images.find((image) => image.original)!;
      expect(images.filter((image) => image.original)).toHaveLength(1);
      // The thumbnails are those of this original, and its bytes are exactly one upload's.
      const ratio = original.width / original.height;
      expect(images.filter((image) => !image.original).map((t) => [t.width, t.height])).toEqual(
        expect.arrayContaining([
          [100, Math.trunc(100 / ratio)],
          [Math.trunc(40 * ratio), 40],
        ]),
      );
      expect(images).toHaveLength(3);
      const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
      expect(sha(await original.makeBlob({ store }))).toBe(sha(uploads[original.width - 300]!));
      await expectFilesMatchRows();
      await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
    });
  });
});

describe('attachImage options', () => {
  it.each<[Record<string, unknown>, string]>([
    [{}, 'to'],
    [{ to: () => undefined, thumbnails: { width: 1 } }, 'thumbnails'],
    [{ to: () => undefined, queue: {} }, 'queue'],
    [{ to: () => undefined, errors: 'throw' }, 'errors'],
  ])('refuses %j naming %s', (options, option) => {
    expect(() => attachImage(options as unknown as AttachImageOptions)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option }),
    );
  });

  it('refuses a store that is not a Store', () => {
    expect(() => attachImage({ to: () => undefined, store: {} as Store })).toThrow(TypeError);
  });
});
