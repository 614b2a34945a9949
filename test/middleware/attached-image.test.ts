import express from 'express';
import request from 'supertest';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { attachedImage, type AttachedImage } from '../../src/index.js';

describe('attachedImage(res)', () => {
  it('gives res.locals.image, typed', async () => {
    const app = express();
    const described = { url: 'http://x/a.png', width: 2, height: 1, mimetype: 'image/png' };
    app.get('/', (_req, res) => {
      res.locals.image = { ...described, image: {}, thumbnails: [] };
      const attached = attachedImage(res);
      expectTypeOf(attached).toEqualTypeOf<AttachedImage>();
      expectTypeOf(attached.url).toBeString();
      res.json({ url: attached.url, thumbnails: attached.thumbnails });
    });
    const response = await request(app).get('/').expect(200);
    expect(response.body).toEqual({ url: described.url, thumbnails: [] });
  });

  it('throws a TypeError when attachImage has not run', async () => {
    const app = express();
    app.get('/', (_req, res) => {
      expect(() => attachedImage(res)).toThrow(TypeError);
      res.sendStatus(204);
    });
    await request(app).get('/').expect(204);
  });
});
