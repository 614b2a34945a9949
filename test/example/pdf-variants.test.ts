/**
 * The example app's album with a PDF among its photos (shown by a PNG of its first page) and
 * the large view of a photo, a size made on demand behind a signed URL.
 */
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LARGE_WIDTH } from '../../examples/express-app/variants.js';
import { THREE_PAGES } from '../images/pdf-fixtures.js';
import { databaseKinds } from '../support/database.js';
import { jpeg, openExampleApp, pathOf, type ExampleApp } from './fixture.js';

interface ImageJson {
  url: string;
  width: number;
  height: number;
  mimetype: string;
}
interface PhotoJson {
  position: number;
  original: ImageJson;
  thumbnails: ImageJson[];
  large: string;
}

describe.each(databaseKinds())('example app: PDFs and sizes on demand on $name', (kind) => {
  let example: ExampleApp;
  let albumId: number;

  beforeAll(async () => {
    example = await openExampleApp(kind);
    const created = await request(example.server).post('/api/albums').send({ title: 'Docs' });
    albumId = (created.body as { album: { id: number } }).album.id;
  });
  afterAll(() => example?.close());

  it('shows a PDF in an album by PNG thumbnails of its first page', async () => {
    const res = await request(example.server)
      .post(`/api/albums/${albumId}/photos`)
      .attach('photos', THREE_PAGES, { filename: 'doc.pdf', contentType: 'application/pdf' });
    expect(res.status).toBe(201);
    const [photo] = (res.body as { photos: PhotoJson[] }).photos;
    expect(photo!.original).toMatchObject({ mimetype: 'application/pdf', width: 200, height: 100 });
    expect(photo!.thumbnails.map(({ mimetype, width }) => [mimetype, width])).toEqual([
      ['image/png', 320],
      ['image/png', 640],
    ]);
    const original = await request(example.server).get(pathOf(photo!.original.url)).buffer(true);
    expect(original.headers['content-type']).toMatch(/^application\/pdf/);
    const page = await request(example.server).get(`/albums/${albumId}`);
    expect(page.text).toContain(pathOf(photo!.thumbnails[0]!.url));
  });

  it('links each photo to its large view, made on the first request', async () => {
    const res = await request(example.server)
      .post(`/api/albums/${albumId}/photos`)
      .attach('photos', await jpeg(1600, 1200), 'big.jpg');
    const [photo] = (res.body as { photos: PhotoJson[] }).photos;
    expect(photo!.large).toMatch(/^\/variants\/[\w-]{43}\/album-photo\//);
    const page = await request(example.server).get(`/albums/${albumId}`);
    expect(page.text).toContain(`href="${photo!.large}"`);
    const large = await request(example.server).get(photo!.large);
    expect(large.status).toBe(302);
    const file = await request(example.server)
      .get(pathOf(large.headers.location!))
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => callback(null, Buffer.concat(chunks)));
      });
    expect(await sharp(file.body as Buffer).metadata()).toMatchObject({
      format: 'webp',
      width: LARGE_WIDTH,
      height: 960,
    });
    const forged = await request(example.server).get(photo!.large.replace('/1280x', '/1281x'));
    expect(forged.status).toBe(403);
  });
});
