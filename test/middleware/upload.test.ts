import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sharp, { type Sharp } from 'sharp';
import request from 'supertest';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProcessingQueue, uploadImage, type UploadImageOptions } from '../../src/index.js';
import type { UploadedRequest } from '../../src/http/upload.js';
import type { StagedImageFile } from '../../src/uploads/storage.js';
import { FRAMEWORKS, sendJson, type Framework, type Handler } from '../support/frameworks.js';
import { makeTempDir } from '../support/temp-dir.js';
import { listDir, makeSamples, type Samples } from './upload-fixtures.js';

let samples: Samples;
let tmp: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  samples = await makeSamples();
});
beforeEach(async () => {
  tmp = await makeTempDir('upload-test');
});
afterEach(async () => {
  await tmp.remove();
});

/** An app with `uploadImage` on `/upload`, answering with what it put on `req.file(s)`. */
function appWith(framework: Framework, options: Partial<UploadImageOptions> = {}) {
  const app = framework.create();
  app.use('/upload', uploadImage({ field: 'picture', tmpDir: tmp.path, ...options }));
  app.use('/upload', (req: IncomingMessage, res: ServerResponse) => {
    const { file, files, body } = req as UploadedRequest;
    const staged = file ?? files?.[0];
    sendJson(res, {
      file,
      files,
      body,
      stagedExists: staged !== undefined && existsSync(staged.path),
    });
  });
  const onError = (err: unknown, _req: IncomingMessage, res: ServerResponse, _next: unknown) => {
    sendJson(res, { unhandled: String(err) }, 500);
  };
  app.use(onError as unknown as Handler);
  return app.listener;
}

interface Answer {
  file?: StagedImageFile;
  files?: StagedImageFile[];
  body?: Record<string, unknown>;
  stagedExists?: boolean;
  error?: { code: string; message: string; field?: string };
  unhandled?: string;
}

const answer = (res: request.Response) => res.body as Answer;

const post = (app: ReturnType<typeof appWith>) => request(app).post('/upload');

describe.each(FRAMEWORKS)('uploadImage under $name', (framework) => {
  describe('accepted uploads', () => {
    it('stages a JPEG, typed by its bytes, and removes the temporary file afterwards', async () => {
      const res = await post(appWith(framework))
        .field('caption', 'hello')
        .attach('picture', samples.jpeg, { filename: 'notes.txt', contentType: 'text/plain' });
      expect(res.status).toBe(200);
      expect(answer(res).file).toMatchObject({
        fieldname: 'picture',
        originalname: 'notes.txt',
        mimetype: 'image/jpeg',
        format: 'jpeg',
        width: 64,
        height: 48,
        pages: 1,
        orientation: 1,
        size: samples.jpeg.length,
      });
      expect(answer(res).file?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(answer(res).body).toEqual({ caption: 'hello' });
      expect(answer(res).stagedExists).toBe(true);
      expect(answer(res).file?.path.startsWith(tmp.path)).toBe(true);
      await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
    });

    it.each([
      ['png', 'image/png'],
      ['webp', 'image/webp'],
      ['avif', 'image/avif'],
      ['gif', 'image/gif'],
    ] as const)('accepts %s by default', async (name, mimetype) => {
      const res = await post(appWith(framework)).attach('picture', samples[name], 'x.bin');
      expect(res.status).toBe(200);
      expect(answer(res).file).toMatchObject({ mimetype, format: name, width: 64, height: 48 });
    });

    it('accepts an animated GIF within maxFrames and reports its frames', async () => {
      const res = await post(appWith(framework, { maxFrames: 3 })).attach(
        'picture',
        samples.animatedGif,
        'a.gif',
      );
      expect(res.status).toBe(200);
      expect(answer(res).file).toMatchObject({ mimetype: 'image/gif', pages: 3, width: 40 });
    });

    it('accepts a safe SVG when svg is in formats', async () => {
      const res = await post(appWith(framework, { formats: ['png', 'svg'] })).attach(
        'picture',
        samples.svg,
        'a.svg',
      );
      expect(res.status).toBe(200);
      expect(answer(res).file).toMatchObject({ mimetype: 'image/svg+xml', width: 20, height: 10 });
    });

    it('puts several files on req.files when maxFiles > 1', async () => {
      const res = await post(appWith(framework, { maxFiles: 2 }))
        .attach('picture', samples.jpeg, 'a.jpg')
        .attach('picture', samples.png, 'b.png');
      expect(res.status).toBe(200);
      expect(answer(res).files?.map((f) => f.mimetype)).toEqual(['image/jpeg', 'image/png']);
      await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
    });
  });

  describe('refused uploads answer { error: { code, message, field } } and leave nothing', () => {
    async function expectRefused(
      res: request.Response,
      status: number,
      code: string,
      field: string | null = 'picture',
    ) {
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(answer(res).error?.code).toBe(code);
      expect(typeof answer(res).error?.message).toBe('string');
      expect(answer(res).error?.field ?? null).toBe(field);
      expect(await listDir(tmp.path)).toEqual([]);
    }

    it('400 E_UPLOAD_MISSING_FILE when the field has no file', async () => {
      const res = await post(appWith(framework)).field('caption', 'no file');
      await expectRefused(res, 400, 'E_UPLOAD_MISSING_FILE');
    });

    it('400 E_UPLOAD_MALFORMED when the body is not multipart', async () => {
      const res = await post(appWith(framework)).send({ picture: 'data' });
      await expectRefused(res, 400, 'E_UPLOAD_MALFORMED');
    });

    it('400 E_UPLOAD_MALFORMED when the multipart body is cut short', async () => {
      const body = `--xyz\r\nContent-Disposition: form-data; name="picture"; filename="a.jpg"\r\n\r\n`;
      const res = await post(appWith(framework))
        .set('Content-Type', 'multipart/form-data; boundary=xyz')
        .send(Buffer.concat([Buffer.from(body), samples.jpeg]));
      await expectRefused(res, 400, 'E_UPLOAD_MALFORMED', null);
    });

    it('400 E_UPLOAD_UNEXPECTED_FILE when a file comes in another field', async () => {
      const res = await post(appWith(framework)).attach('other', samples.jpeg, 'a.jpg');
      await expectRefused(res, 400, 'E_UPLOAD_UNEXPECTED_FILE', 'other');
    });

    it('413 E_UPLOAD_FILE_TOO_LARGE over maxFileSize', async () => {
      const res = await post(appWith(framework, { maxFileSize: 1000 })).attach(
        'picture',
        samples.jpeg,
        'a.jpg',
      );
      await expectRefused(res, 413, 'E_UPLOAD_FILE_TOO_LARGE');
    });

    it('413 E_UPLOAD_TOO_MANY_FILES over maxFiles', async () => {
      const res = await post(appWith(framework))
        .attach('picture', samples.jpeg, 'a.jpg')
        .attach('picture', samples.png, 'b.png');
      await expectRefused(res, 413, 'E_UPLOAD_TOO_MANY_FILES');
    });

    it('413 E_UPLOAD_TOO_MANY_FIELDS over maxFields', async () => {
      const res = await post(appWith(framework, { maxFields: 2 }))
        .field('a', '1')
        .field('b', '2')
        .field('c', '3')
        .attach('picture', samples.jpeg, 'a.jpg');
      await expectRefused(res, 413, 'E_UPLOAD_TOO_MANY_FIELDS', null);
    });

    it('413 E_UPLOAD_FIELD_TOO_LARGE over maxFieldSize', async () => {
      const res = await post(appWith(framework, { maxFieldSize: 10 }))
        .field('caption', 'x'.repeat(11))
        .attach('picture', samples.jpeg, 'a.jpg');
      await expectRefused(res, 413, 'E_UPLOAD_FIELD_TOO_LARGE', 'caption');
    });

    it('415 E_NOT_AN_IMAGE for text named .jpg and sent as image/jpeg', async () => {
      const res = await post(appWith(framework)).attach('picture', samples.text, {
        filename: 'photo.jpg',
        contentType: 'image/jpeg',
      });
      await expectRefused(res, 415, 'E_NOT_AN_IMAGE');
    });

    it('415 E_IMAGE_TYPE_NOT_ALLOWED for an image outside the allow-list', async () => {
      const res = await post(appWith(framework)).attach('picture', samples.tiff, {
        filename: 'photo.jpg',
        contentType: 'image/jpeg',
      });
      await expectRefused(res, 415, 'E_IMAGE_TYPE_NOT_ALLOWED');
    });

    it('415 E_IMAGE_TYPE_NOT_ALLOWED for SVG unless enabled', async () => {
      const res = await post(appWith(framework)).attach('picture', samples.svg, 'a.svg');
      await expectRefused(res, 415, 'E_IMAGE_TYPE_NOT_ALLOWED');
    });

    it('415 E_IMAGE_TYPE_NOT_ALLOWED for an allowed-by-default format left out of formats', async () => {
      const res = await post(appWith(framework, { formats: ['jpeg'] })).attach(
        'picture',
        samples.png,
        'a.png',
      );
      await expectRefused(res, 415, 'E_IMAGE_TYPE_NOT_ALLOWED');
    });

    it.each(['truncatedJpeg', 'truncatedPng'] as const)(
      '422 E_IMAGE_TRUNCATED for %s',
      async (name) => {
        const res = await post(appWith(framework)).attach('picture', samples[name], 'a.img');
        await expectRefused(res, 422, 'E_IMAGE_TRUNCATED');
      },
    );

    it('422 E_IMAGE_UNDECODABLE for a corrupt PNG', async () => {
      const res = await post(appWith(framework)).attach('picture', samples.corruptPng, 'a.png');
      await expectRefused(res, 422, 'E_IMAGE_UNDECODABLE');
    });

    it('422 E_IMAGE_TOO_MANY_PIXELS over maxPixels', async () => {
      const res = await post(appWith(framework, { maxPixels: 64 * 48 - 1 })).attach(
        'picture',
        samples.jpeg,
        'a.jpg',
      );
      await expectRefused(res, 422, 'E_IMAGE_TOO_MANY_PIXELS');
    });

    it('422 E_IMAGE_TOO_MANY_FRAMES over maxFrames', async () => {
      const res = await post(appWith(framework, { maxFrames: 2 })).attach(
        'picture',
        samples.animatedGif,
        'a.gif',
      );
      await expectRefused(res, 422, 'E_IMAGE_TOO_MANY_FRAMES');
    });

    it('422 E_IMAGE_TOO_MUCH_WORK over maxTotalPixels', async () => {
      const res = await post(appWith(framework, { maxTotalPixels: 64 * 48 - 1 })).attach(
        'picture',
        samples.jpeg,
        'a.jpg',
      );
      await expectRefused(res, 422, 'E_IMAGE_TOO_MUCH_WORK');
    });

    it.each([
      ['maxIccSize', (image: Sharp) => image.withIccProfile('p3')],
      ['maxExifSize', (image: Sharp) => image.withExif({ IFD0: { Copyright: 'x'.repeat(600) } })],
      [
        'maxXmpSize',
        (image: Sharp) =>
          image.withXmp(`<x:xmpmeta xmlns:x="adobe:ns:meta/">${' '.repeat(600)}</x:xmpmeta>`),
      ],
    ] as const)(
      '422 E_IMAGE_METADATA_TOO_LARGE over %s, and accepted under it',
      async (option, add) => {
        for (const format of ['jpeg', 'png', 'webp'] as const) {
          const bytes = await add(sharp(samples.jpeg)).toFormat(format).toBuffer();
          const refused = await post(appWith(framework, { [option]: 200 })).attach(
            'picture',
            bytes,
            'a',
          );
          await expectRefused(refused, 422, 'E_IMAGE_METADATA_TOO_LARGE');
          const accepted = await post(appWith(framework, { [option]: 10_000 })).attach(
            'picture',
            bytes,
            'a',
          );
          expect(accepted.status, format).toBe(200);
        }
      },
    );

    it('422 E_SVG_UNSAFE for an SVG with a script, even when SVG is enabled', async () => {
      const svg = samples.svg.toString().replace('</svg>', '<script>alert(1)</script></svg>');
      const res = await post(appWith(framework, { formats: ['svg'] })).attach(
        'picture',
        Buffer.from(svg),
        'a.svg',
      );
      await expectRefused(res, 422, 'E_SVG_UNSAFE');
    });

    it('413 E_UPLOAD_FILE_TOO_LARGE for an SVG over maxSvgSize', async () => {
      const res = await post(appWith(framework, { formats: ['svg'], maxSvgSize: 50 })).attach(
        'picture',
        samples.svg,
        'a.svg',
      );
      await expectRefused(res, 413, 'E_UPLOAD_FILE_TOO_LARGE');
    });

    it('503 E_QUEUE_FULL with Retry-After when the processing queue is full', async () => {
      const queue = new ProcessingQueue({ concurrency: 1, maxQueued: 0, retryAfter: 7 });
      let release!: () => void;
      const blocker = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
      try {
        const res = await post(appWith(framework, { queue })).attach(
          'picture',
          samples.jpeg,
          'a.jpg',
        );
        await expectRefused(res, 503, 'E_QUEUE_FULL', null);
        expect(res.headers['retry-after']).toBe('7');
      } finally {
        release();
        await blocker;
      }
      const res = await post(appWith(framework, { queue })).attach(
        'picture',
        samples.jpeg,
        'a.jpg',
      );
      expect(res.status).toBe(200);
    });

    it("passes the error to next(err) with errors: 'next'", async () => {
      const res = await post(appWith(framework, { errors: 'next' })).attach(
        'picture',
        samples.text,
        'a.jpg',
      );
      expect(res.status).toBe(500);
      expect(answer(res).unhandled).toMatch(/NotAnImageError/);
      expect(await listDir(tmp.path)).toEqual([]);
    });
  });
});

describe('uploadImage options', () => {
  it.each([
    [{}, 'field'],
    [{ field: '' }, 'field'],
    [{ field: 'f', maxFileSize: 0 }, 'maxFileSize'],
    [{ field: 'f', maxPixels: 1.5 }, 'maxPixels'],
    [{ field: 'f', maxFrames: -1 }, 'maxFrames'],
    [{ field: 'f', maxTotalPixels: 0 }, 'maxTotalPixels'],
    [{ field: 'f', decodeTimeout: '5s' }, 'decodeTimeout'],
    [{ field: 'f', maxIccSize: -1 }, 'maxIccSize'],
    [{ field: 'f', maxExifSize: 0.5 }, 'maxExifSize'],
    [{ field: 'f', maxXmpSize: null }, 'maxXmpSize'],
    [{ field: 'f', maxFiles: 0 }, 'maxFiles'],
    [{ field: 'f', formats: [] }, 'formats'],
    [{ field: 'f', formats: ['bmp'] }, 'formats'],
    [{ field: 'f', verify: 'yes' }, 'verify'],
    [{ field: 'f', errors: 'throw' }, 'errors'],
    [{ field: 'f', queue: {} }, 'queue'],
  ])('refuses %j naming %s', (options, option) => {
    expect(() => uploadImage(options as UploadImageOptions)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option }),
    );
  });
});
