/**
 * One decode per attached upload: with `attachImage` right after `uploadImage` in a route, the
 * decoder child that checks the upload also renders its thumbnails and this process decodes
 * nothing; the staged file enters a file-system store by rename on the same file system (a copy
 * across file systems); the processing queue holds a slot only while decoding, so a slow store
 * write (inside the transaction) does not hold back another request's decode.
 */
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import connect from 'connect';
import express from 'express';
import express4 from 'express4';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  attachedImage,
  attachImage,
  FileSystemStore,
  ProcessingQueue,
  uploadImage,
  type FileInput,
} from '../../src/index.js';
import { decoderPoolFor } from '../../src/images/decoder-pool.js';
import { defineModels, type Models } from '../models/models.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { FaultStore } from '../support/fault-store.js';
import { makeTempDir } from '../support/temp-dir.js';
import { listDir } from './upload-fixtures.js';

/** Every `sharp(input)` this process makes, so a test can see which files it decoded. */
const sharpInputs = vi.hoisted(() => [] as unknown[]);
vi.mock('sharp', async (importOriginal) => {
  const module: { default: (...args: unknown[]) => unknown } = await importOriginal();
  const real = module.default;
  const counted = new Proxy(real, {
    apply(target, self, args: unknown[]) {
      sharpInputs.push(args[0]);
      return Reflect.apply(target, self, args);
    },
  });
  return { default: counted };
});

const THUMBNAILS = [{ width: 100 }, { height: 40 }, { width: 640 }];

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

/** A store whose puts wait for `release()` after `hold()`: a slow upload, inside the transaction. */
class GatedStore extends FaultStore {
  #gate: Promise<void> | undefined;
  #open: () => void = () => undefined;
  entered = 0;

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open();
    this.#gate = undefined;
  }

  override async putFile(
    file: FileInput,
    ...key: [string, bigint | number, number, number, string, boolean]
  ) {
    this.entered += 1;
    await this.#gate;
    return super.putFile(file, ...key);
  }
}

type Server = { use: (...handlers: unknown[]) => unknown; post: (...args: unknown[]) => unknown };

const reply = (_req: IncomingMessage, res: ServerResponse) => {
  const image = attachedImage(res);
  res.setHeader('Content-Type', 'application/json');
  res.end(
    JSON.stringify({
      url: image.url,
      thumbnails: image.thumbnails.map(({ width, height }) => `${width}x${height}`),
    }),
  );
};

describe.each(databaseKinds())('attachImage after uploadImage on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let tmp: { path: string; remove: () => Promise<void> };
  let storeDir: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.sequelize.sync({ force: true });
    tmp = await makeTempDir('one-decode-tmp');
    storeDir = await makeTempDir('one-decode-store');
    store = new FileSystemStore({ path: storeDir.path, baseUrl: 'http://images.test/' });
    sharpInputs.length = 0;
  });
  afterEach(async () => {
    await tmp.remove();
    await storeDir.remove();
  });

  const to = async (req: { params: Record<string, string> }) =>
    (await models.User.findByPk(req.params.id))?.picture;

  /** The original's file in the store. */
  async function originalPath(userId: number): Promise<string> {
    const original = await (await models.User.findByPk(userId))!.picture.original({ store });
    return store.localPath(
      original!.objectType,
      original!.objectId,
      original!.width,
      original!.height,
      original!.mimetype,
    );
  }

  /**
   * Decodes in this process: sharp made from a staged file beyond its one header read, or from
   * pixels or bytes of some size (a thumbnail cut from a decoded image).
   */
  const decodesHere = () =>
    sharpInputs.filter((input) => typeof input === 'string' && input.startsWith(tmp.path)).length -
    1 +
    sharpInputs.filter((input) => Buffer.isBuffer(input) && input.length > 4096).length;

  describe.each([
    { name: 'Express 5', create: () => express() as unknown as Server },
    { name: 'Express 4', create: () => express4() as unknown as Server },
  ])('under $name', ({ create }) => {
    it('decodes the upload once, in the checking child, which renders every thumbnail', async () => {
      const queue = new ProcessingQueue({ concurrency: 1 });
      const app = create();
      app.use(store.middleware());
      app.post(
        '/users/:id/picture',
        uploadImage({ field: 'picture', tmpDir: tmp.path, queue }),
        attachImage({ to, thumbnails: THUMBNAILS, queue }),
        reply,
      );
      const user = await models.User.create();
      const res = await request(app as never)
        .post(`/users/${user.id}/picture`)
        .attach('picture', await photo(800, 600), 'a.jpg');
      expect(res.status).toBe(200);
      expect((res.body as { thumbnails: string[] }).thumbnails).toEqual([
        '100x75',
        '53x40',
        '640x480',
      ]);
      expect(decoderPoolFor(queue).decodes).toBe(1);
      // The header read only: no decode of the file, no thumbnail cut from pixels here.
      expect(sharpInputs.filter((input) => typeof input === 'string')).toHaveLength(1);
      expect(decodesHere()).toBe(0);
      const thumbnails = await user.picture.images({ store });
      expect(thumbnails.map((image) => `${image.width}x${image.height}`)).toEqual([
        '800x600',
        '53x40',
        '100x75',
        '640x480',
      ]);
      for (const image of thumbnails.slice(1)) {
        const meta = await sharp(await image.makeBlob({ store })).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', image.width, image.height]);
      }
    });

    it('refuses a truncated upload from that one decode, storing nothing', async () => {
      const queue = new ProcessingQueue({ concurrency: 1 });
      const app = create();
      app.use(store.middleware());
      app.post(
        '/users/:id/picture',
        uploadImage({ field: 'picture', tmpDir: tmp.path, queue }),
        attachImage({ to, thumbnails: THUMBNAILS, queue }),
        reply,
      );
      const user = await models.User.create();
      const whole = await photo(800, 600);
      const res = await request(app as never)
        .post(`/users/${user.id}/picture`)
        .attach('picture', whole.subarray(0, whole.length - 2000), 'a.jpg');
      expect(res.status).toBe(422);
      expect((res.body as { error: { code: string } }).error.code).toBe('E_IMAGE_TRUNCATED');
      expect(decoderPoolFor(queue).decodes).toBe(1);
      expect(await models.UserPicture.count()).toBe(0);
      expect(await listDir(storeDir.path)).toEqual([]);
      await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
    });

    it('checks the upload before a handler other than attachImage sees it', async () => {
      const queue = new ProcessingQueue({ concurrency: 1 });
      const app = create();
      const seen: number[] = [];
      app.post(
        '/check',
        uploadImage({ field: 'picture', tmpDir: tmp.path, queue }),
        (_req: unknown, _res: unknown, next: () => void) => {
          seen.push(decoderPoolFor(queue).decodes);
          next();
        },
        attachImage({ to: () => null, queue }),
      );
      const whole = await photo(300, 200);
      const truncated = await request(app as never)
        .post('/check')
        .attach('picture', whole.subarray(0, whole.length - 1000), 'a.jpg');
      expect(truncated.status).toBe(422);
      expect(seen).toEqual([]);
      const res = await request(app as never)
        .post('/check')
        .attach('picture', whole, 'a.jpg');
      expect(res.status).toBe(404);
      expect(seen).toEqual([2]);
    });

    it('moves the staged file into the store when both are on one file system', async () => {
      const app = create();
      app.use(store.middleware());
      let staged: { ino: number; dev: number } | undefined;
      app.post(
        '/users/:id/picture',
        uploadImage({ field: 'picture', tmpDir: tmp.path }),
        attachImage({
          to: async (req) => {
            staged = await stat((req as unknown as { file: { path: string } }).file.path);
            return to(req);
          },
          thumbnails: [{ width: 50 }],
        }),
        reply,
      );
      const user = await models.User.create();
      const bytes = await photo(400, 300);
      const res = await request(app as never)
        .post(`/users/${user.id}/picture`)
        .attach('picture', bytes, 'a.jpg');
      expect(res.status).toBe(200);
      const stored = await stat(await originalPath(user.id));
      expect(staged?.dev).toBe(stored.dev);
      expect(stored.ino).toBe(staged?.ino);
      expect(await user.picture.makeBlob({ store })).toEqual(bytes);
      await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
    });
  });

  it('copies the staged file into the store across file systems', async () => {
    const shm = await makeTempDirIn('/dev/shm', 'one-decode-shm');
    try {
      const app = express();
      app.use(store.middleware());
      let staged: { ino: number; dev: number } | undefined;
      app.post(
        '/users/:id/picture',
        uploadImage({ field: 'picture', tmpDir: shm.path }),
        attachImage({
          to: async (req) => {
            staged = await stat((req as unknown as { file: { path: string } }).file.path);
            return to(req);
          },
          thumbnails: [{ width: 50 }],
        }),
        reply,
      );
      const user = await models.User.create();
      const bytes = await photo(400, 300);
      const res = await request(app)
        .post(`/users/${user.id}/picture`)
        .attach('picture', bytes, 'a.jpg');
      expect(res.status).toBe(200);
      const stored = await stat(await originalPath(user.id));
      expect(staged?.dev).not.toBe(stored.dev);
      expect(await user.picture.makeBlob({ store })).toEqual(bytes);
      await vi.waitFor(async () => expect(await listDir(shm.path)).toEqual([]));
    } finally {
      await shm.remove();
    }
  });

  it('still decodes once per check under Connect, where the route cannot be seen', async () => {
    const queue = new ProcessingQueue({ concurrency: 1 });
    const app = connect();
    app.use(store.middleware());
    app.use('/users', uploadImage({ field: 'picture', tmpDir: tmp.path, queue }));
    app.use('/users', (req, res, next) => {
      (req as unknown as { params: Record<string, string> }).params = { id: '1' };
      attachImage({ to, thumbnails: THUMBNAILS, queue })(req, res, next);
    });
    app.use('/users', reply);
    await models.User.create();
    const res = await request(app)
      .post('/users')
      .attach('picture', await photo(300, 200), 'a.jpg');
    expect(res.status).toBe(200);
    // The check decoded in the child before any other handler ran; thumbnails were cut here.
    expect(decoderPoolFor(queue).decodes).toBe(1);
    expect(decodesHere()).toBeGreaterThan(0);
  });

  it('holds a queue slot only while decoding: a slow store write does not block another decode', async () => {
    const queue = new ProcessingQueue({ concurrency: 1 });
    const gated = new GatedStore(store);
    const app = express();
    app.use(gated.middleware());
    const targets: string[] = [];
    app.post(
      '/users/:id/picture',
      uploadImage({ field: 'picture', tmpDir: tmp.path, queue }),
      attachImage({
        to: (req) => {
          targets.push(req.params.id!);
          return to(req);
        },
        thumbnails: [{ width: 64 }],
        queue,
      }),
      reply,
    );
    const [a, b] = [await models.User.create(), await models.User.create()];
    gated.hold();
    const first = request(app)
      .post(`/users/${a.id}/picture`)
      .attach('picture', await photo(500, 400), 'a.jpg')
      .then((res) => res);
    // A is inside its transaction, its original's write held up by the store.
    await vi.waitFor(() => expect(gated.entered).toBe(1), { timeout: 20_000 });
    expect(queue.running).toBe(0);
    const second = request(app)
      .post(`/users/${b.id}/picture`)
      .attach('picture', await photo(600, 400), 'b.jpg')
      .then((res) => res);
    // B's decode (its check and thumbnail) ran to its end meanwhile, in the one slot.
    await vi.waitFor(() => expect(targets).toEqual([String(a.id), String(b.id)]), {
      timeout: 20_000,
    });
    expect(decoderPoolFor(queue).decodes).toBe(2);
    gated.release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(await models.UserPicture.count()).toBe(4);
  });
});

async function makeTempDirIn(parent: string, label: string) {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const path = await mkdtemp(join(parent, `${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
