/**
 * PDF originals through `uploadImage` + `attachImage` on a real server: accepted only when
 * `formats` lists `'pdf'`, stored byte for byte as application/pdf with PNG thumbnails of the
 * first page, and hostile documents refused with their 422 codes, nothing stored.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type Express } from 'express';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  attachImage,
  FileSystemStore,
  InvalidOptionError,
  uploadImage,
  type AttachedImage,
  type UploadImageOptions,
} from '../../src/index.js';
import {
  BROKEN_XREF,
  HUGE_PAGE,
  slowPdf,
  THOUSANDS_OF_PAGES,
  THREE_PAGES,
} from '../images/pdf-fixtures.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';
import { listDir } from './upload-fixtures.js';

let db: TestDatabase;
let models: Models;
let tmp: { path: string; remove: () => Promise<void> };
let storeDir: { path: string; remove: () => Promise<void> };
let store: FileSystemStore;

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  models = defineModels(db.sequelize);
  await db.sequelize.sync({ force: true });
  tmp = await makeTempDir('upload-pdf-tmp');
  storeDir = await makeTempDir('upload-pdf-store');
  store = new FileSystemStore({ path: storeDir.path, baseUrl: 'http://x.test/' });
});

afterAll(async () => {
  await db.close();
  await tmp.remove();
  await storeDir.remove();
});

function appFor(options: Partial<UploadImageOptions> = {}): Express {
  const app = express();
  app.post(
    '/document',
    uploadImage({
      field: 'document',
      tmpDir: tmp.path,
      formats: ['jpeg', 'png', 'pdf'],
      ...options,
    }),
    attachImage({
      to: async () => (await models.User.create()).picture,
      store,
      thumbnails: [{ width: 100 }, { height: 20 }],
    }),
    (req, res) => {
      const image = res.locals.image as AttachedImage;
      const { mimetype, format, width, height, pages } = (req as { file?: Record<string, unknown> })
        .file!;
      res.json({
        image: { mimetype: image.mimetype, width: image.width, height: image.height },
        thumbnails: image.thumbnails.map(({ mimetype, width, height }) => ({
          mimetype,
          width,
          height,
        })),
        file: { mimetype, format, width, height, pages },
      });
    },
  );
  return app;
}

const upload = (app: Express, bytes: Buffer) =>
  request(app)
    .post('/document')
    .attach('document', bytes, { filename: 'x.pdf', contentType: 'application/pdf' });

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe("uploadImage({ formats: [..., 'pdf'] })", () => {
  it('stores the PDF byte for byte, sized by its first page, with PNG thumbnails of that page', async () => {
    const before = new Set(await filesUnder(storeDir.path));
    const res = await upload(appFor(), THREE_PAGES);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      image: { mimetype: 'application/pdf', width: 200, height: 100 },
      thumbnails: [
        { mimetype: 'image/png', width: 100, height: 50 },
        { mimetype: 'image/png', width: 40, height: 20 },
      ],
      file: { mimetype: 'application/pdf', format: 'pdf', width: 200, height: 100, pages: 3 },
    });
    const files = (await filesUnder(storeDir.path)).filter((file) => !before.has(file));
    const original = files.find((file) => file.endsWith('.pdf'))!;
    expect(await readFile(original)).toEqual(THREE_PAGES);
    const pngs = files.filter((file) => file.endsWith('.png'));
    expect(pngs).toHaveLength(2);
    for (const png of pngs) {
      // The first page is red; the others (green, blue) are not what the thumbnails show.
      const { data, info } = await sharp(png)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const middle = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 3;
      expect([...data.subarray(middle, middle + 3)]).toEqual([255, 0, 0]);
    }
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
  });

  it('makes thumbnails of a stored PDF later, from the store', async () => {
    const res = await upload(appFor(), THREE_PAGES);
    expect(res.status).toBe(200);
    const user = await models.User.findOne({ order: [['id', 'DESC']] });
    const thumbnail = await user!.picture.generateThumbnail({ width: 60 }, { store });
    expect(thumbnail).toMatchObject({ mimetype: 'image/png', width: 60, height: 30 });
    const bytes = await thumbnail.makeBlob({ store });
    expect((await sharp(bytes).metadata()).format).toBe('png');
  });

  it('refuses PDFs unless formats lists pdf: 415 E_IMAGE_TYPE_NOT_ALLOWED', async () => {
    const res = await upload(appFor({ formats: ['jpeg', 'png'] }), THREE_PAGES);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({
      error: { code: 'E_IMAGE_TYPE_NOT_ALLOWED', field: 'document' },
    });
  });

  it('refuses PDFs by default', async () => {
    const res = await upload(appFor({ formats: undefined }), THREE_PAGES);
    expect(res.status).toBe(415);
  });

  it.each([
    ['a huge page box', 'E_PDF_PAGE_TOO_LARGE', HUGE_PAGE, {}],
    ['thousands of pages', 'E_PDF_TOO_MANY_PAGES', THOUSANDS_OF_PAGES, {}],
    ['a broken xref', 'E_PDF_UNREADABLE', BROKEN_XREF, {}],
    ['a render past its time limit', 'E_PDF_RENDER_TIMEOUT', slowPdf(), { pdfRenderTimeout: 300 }],
  ] as const)('refuses %s with 422 %s and stores nothing', async (_name, code, bytes, options) => {
    const before = await filesUnder(storeDir.path);
    const rows = await models.UserPicture.count();
    const res = await upload(appFor(options), bytes);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code, field: 'document' } });
    expect(await filesUnder(storeDir.path)).toEqual(before);
    expect(await models.UserPicture.count()).toBe(rows);
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
  });

  it('validates the PDF limits once, naming the option', () => {
    for (const option of ['maxPdfPages', 'maxPdfPageSize', 'pdfRenderTimeout'] as const) {
      const make = () => uploadImage({ field: 'document', formats: ['pdf'], [option]: 0 });
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION', option }));
    }
  });
});
