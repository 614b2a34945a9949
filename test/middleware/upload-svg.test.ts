/**
 * SVG through `uploadImage` + `attachImage` on a real server: a safe SVG stored as it is, every
 * evasion of the corpus answered 422 E_SVG_UNSAFE with nothing stored, `svg: 'rasterize'`
 * storing a PNG original and no SVG anywhere, and S3 objects of SVGs saved as attachments.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import express, { type Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  attachImage,
  FileSystemStore,
  InvalidOptionError,
  uploadImage,
  type AttachedImage,
  type Store,
  type UploadImageOptions,
} from '../../src/index.js';
import { sniffImageType } from '../../src/images/magic.js';
import type { S3Store } from '../../src/s3.js';
import { BENIGN } from '../images/svg-benign.js';
import { EVASIONS, svg } from '../images/svg-evasions.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { listKeys, s3StoreFixture, type TestBucket } from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';
import { listDir } from './upload-fixtures.js';

const FORMATS: UploadImageOptions['formats'] = ['jpeg', 'png', 'svg'];
const drawing = Buffer.from(BENIGN.find((b) => b.name.startsWith('logo'))!.svg);

let db: TestDatabase;
let models: Models;
let tmp: { path: string; remove: () => Promise<void> };
const dirs: { path: string; remove: () => Promise<void> }[] = [];
let s3: { store: S3Store; bucket: TestBucket; cleanup: () => Promise<void> };

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  models = defineModels(db.sequelize);
  await db.sequelize.sync({ force: true });
  tmp = await makeTempDir('upload-svg-tmp');
  s3 = await s3StoreFixture();
});

afterAll(async () => {
  await db.close();
  await tmp.remove();
  for (const dir of dirs) await dir.remove();
  await s3.cleanup();
});

async function fsStore(): Promise<{ store: FileSystemStore; path: string }> {
  const dir = await makeTempDir('upload-svg-store');
  dirs.push(dir);
  return {
    store: new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' }),
    path: dir.path,
  };
}

/** The README's handler: upload, attach to a new user's picture, answer the row and req.file. */
function appFor(store: Store, options: Partial<UploadImageOptions> = {}): Express {
  const app = express();
  app.post(
    '/picture',
    uploadImage({ field: 'picture', tmpDir: tmp.path, formats: FORMATS, ...options }),
    attachImage({
      to: async () => (await models.User.create()).picture,
      store,
      thumbnails: [{ width: 16 }],
    }),
    (req, res) => {
      const image = res.locals.image as AttachedImage;
      const { mimetype, format, width, height } = (req as { file?: Record<string, unknown> }).file!;
      res.json({
        image: { mimetype: image.mimetype, width: image.width, height: image.height },
        file: { mimetype, format, width, height },
      });
    },
  );
  return app;
}

const upload = (app: Express, bytes: Buffer, name = 'x.svg') =>
  request(app)
    .post('/picture')
    .attach('picture', bytes, { filename: name, contentType: 'image/svg+xml' });

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('uploadImage with SVG allowed', () => {
  it('stores a safe SVG byte for byte, with a PNG thumbnail', async () => {
    const { store, path } = await fsStore();
    const res = await upload(appFor(store), drawing);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      image: { mimetype: 'image/svg+xml', width: 100, height: 100 },
    });
    const files = await filesUnder(path);
    const original = files.find((f) => f.endsWith('.svg'))!;
    expect(await readFile(original)).toEqual(drawing);
    expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(1);
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
  });

  it(`answers every one of the ${EVASIONS.length} evasions 422 E_SVG_UNSAFE (415 where it is no SVG at all) and stores nothing`, async () => {
    const { store, path } = await fsStore();
    const app = appFor(store);
    const rowsBefore = await models.UserPicture.count();
    const outcomes = new Map<string, number>();
    for (const { name, svg: document } of EVASIONS) {
      const bytes = Buffer.from(document);
      // An XHTML page with an SVG inside is not taken for an SVG: it is no image at all.
      const expected =
        sniffImageType(bytes)?.format === 'svg' ? [422, 'E_SVG_UNSAFE'] : [415, 'E_NOT_AN_IMAGE'];
      const res = await upload(app, bytes);
      const body = res.body as { error?: { code: string; field?: string } };
      const key = `${res.status} ${body.error?.code}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      expect([res.status, body.error?.code, body.error?.field], name).toEqual([
        ...expected,
        'picture',
      ]);
    }
    expect(outcomes.get('422 E_SVG_UNSAFE')).toBeGreaterThanOrEqual(EVASIONS.length - 1);
    expect(await filesUnder(path)).toEqual([]);
    expect(await models.UserPicture.count()).toBe(rowsBefore);
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
  });

  it('answers an SVG that begins with <?xml-stylesheet 422 E_SVG_UNSAFE, not 415', async () => {
    const { store, path } = await fsStore();
    const bytes = Buffer.from(
      `<?xml-stylesheet type="text/css" href="http://evil.test/x.css"?>\n${svg('<rect width="9" height="9"/>')}`,
    );
    const res = await upload(appFor(store), bytes);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'E_SVG_UNSAFE', field: 'picture' } });
    expect(await filesUnder(path)).toEqual([]);
  });
});

describe("svg: 'rasterize'", () => {
  it('stores an accepted SVG as a PNG original: req.file says PNG, no SVG anywhere', async () => {
    const { store, path } = await fsStore();
    const res = await upload(appFor(store, { svg: 'rasterize' }), drawing);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      image: { mimetype: 'image/png', width: 100, height: 100 },
      file: { mimetype: 'image/png', format: 'png', width: 100, height: 100 },
    });
    const files = await filesUnder(path);
    expect(files.length).toBe(2);
    for (const file of files) {
      expect(file.endsWith('.png'), file).toBe(true);
      expect((await readFile(file)).subarray(1, 4).toString('latin1')).toBe('PNG');
    }
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
  });

  it('still refuses an unsafe SVG with 422 E_SVG_UNSAFE before rendering it', async () => {
    const { store, path } = await fsStore();
    const hostile = EVASIONS.find((c) => c.problem === 'external-reference')!;
    const res = await upload(appFor(store, { svg: 'rasterize' }), Buffer.from(hostile.svg));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'E_SVG_UNSAFE' } });
    expect(await filesUnder(path)).toEqual([]);
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
  });

  it('leaves other formats as they are', async () => {
    const { store } = await fsStore();
    const png = await (
      await import('sharp')
    )
      .default({
        create: { width: 3, height: 2, channels: 3, background: '#123456' },
      })
      .jpeg()
      .toBuffer();
    const res = await upload(appFor(store, { svg: 'rasterize' }), png, 'x.jpg');
    expect(res.body).toMatchObject({ file: { mimetype: 'image/jpeg', format: 'jpeg' } });
  });

  it('is validated once: any other value throws InvalidOptionError naming svg', () => {
    const make = () => uploadImage({ field: 'picture', svg: 'inline' as 'keep' });
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'svg' }));
  });
});

describe('uploadImage to S3', () => {
  it('stores an uploaded SVG with Content-Disposition: attachment, its PNG thumbnail without', async () => {
    const res = await upload(appFor(s3.store), drawing);
    expect(res.status).toBe(200);
    const keys = await listKeys(s3.bucket.client, s3.bucket.name);
    const svgKey = keys.find((key) => key.endsWith('.svg'))!;
    const pngKey = keys.find((key) => key.endsWith('.png'))!;
    const head = (key: string) =>
      s3.bucket.client.send(new HeadObjectCommand({ Bucket: s3.bucket.name, Key: key }));
    expect(await head(svgKey)).toMatchObject({
      ContentType: 'image/svg+xml',
      ContentDisposition: 'attachment',
    });
    expect((await head(pngKey)).ContentDisposition).toBeUndefined();
  });
});
