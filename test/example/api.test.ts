/**
 * The example app's JSON API, every route and its refusals, on SQLite (and PostgreSQL with
 * DATABASE_URL) and a fresh file-system store.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PHOTOS_PER_UPLOAD } from '../../examples/express-app/routes/uploads.js';
import { USER_THUMBNAILS } from '../../examples/express-app/sizes.js';
import { databaseKinds } from '../support/database.js';
import {
  anyNumber,
  anyString,
  jpeg,
  listFiles,
  openExampleApp,
  pathOf,
  type ExampleApp,
} from './fixture.js';

interface ImageJson {
  url: string;
  width: number;
  height: number;
  mimetype: string;
}
interface PictureJson {
  original: ImageJson;
  thumbnails: ImageJson[];
}

describe.each(databaseKinds())('example app JSON API on $name', (kind) => {
  let example: ExampleApp;
  let photo: Buffer;

  beforeAll(async () => {
    example = await openExampleApp(kind);
    photo = await jpeg(640, 480);
  });
  afterAll(() => example?.close());

  it('creates a user from JSON (201 with Location) and lists it', async () => {
    const created = await request(example.server).post('/api/users').send({ name: '  Ada  ' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ user: { id: anyNumber, name: 'Ada', picture: null } });
    const id = (created.body as { user: { id: number } }).user.id;
    expect(created.headers.location).toBe(`/api/users/${id}`);

    const list = await request(example.server).get('/api/users');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ users: [{ id, name: 'Ada', picture: null }] });
    const one = await request(example.server).get(`/api/users/${id}`);
    expect(one.body).toEqual({ user: { id, name: 'Ada', picture: null } });
  });

  it('refuses a user without a name (422), a too long one, and a non-JSON body (415)', async () => {
    for (const name of ['', '   ', 'x'.repeat(61), 42]) {
      const res = await request(example.server).post('/api/users').send({ name });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({
        error: { code: 'E_INVALID_FIELD', message: anyString, field: 'name' },
      });
    }
    const form = await request(example.server).post('/api/users').type('form').send('name=Bob');
    expect(form.status).toBe(415);
    expect((form.body as { error: { code: string } }).error.code).toBe('E_UNSUPPORTED_MEDIA_TYPE');
    const malformed = await request(example.server)
      .post('/api/users')
      .set('Content-Type', 'application/json')
      .send('{"name":');
    expect(malformed.status).toBe(400);
    expect((malformed.body as { error: { code: string } }).error.code).toBe('E_BAD_REQUEST');
    const large = await request(example.server)
      .post('/api/users')
      .send({ name: 'x'.repeat(20_000) });
    expect(large.status).toBe(413);
    expect((large.body as { error: { code: string } }).error.code).toBe('E_TOO_LARGE');
    expect(await example.models.User.count({ where: { name: 'Bob' } })).toBe(0);
  });

  it('answers 404 E_USER_NOT_FOUND for an unknown or malformed user id', async () => {
    for (const path of ['/api/users/999999', '/api/users/abc', '/api/users/1.5']) {
      const res = await request(example.server).get(path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        error: { code: 'E_USER_NOT_FOUND', message: anyString },
      });
    }
  });

  it('uploads a picture: 201 with the original and the thumbnails the pages use', async () => {
    const user = await example.models.User.create({ name: 'Pic' });
    const res = await request(example.server)
      .post(`/api/users/${user.id}/picture`)
      .attach('picture', photo, 'photo.jpg');
    expect(res.status).toBe(201);
    const { picture } = res.body as { picture: PictureJson };
    expect(picture.original).toMatchObject({ width: 640, height: 480, mimetype: 'image/jpeg' });
    expect(picture.thumbnails.map((image) => image.width)).toEqual(
      USER_THUMBNAILS.map((size) => size.width),
    );
    for (const image of [picture.original, ...picture.thumbnails]) {
      expect(image.url).toMatch(/[?&]_ts=\d{20}$/);
      const served = await request(example.server).get(pathOf(image.url));
      expect(served.status).toBe(200);
      expect(served.headers['content-type']).toBe('image/jpeg');
    }
    const listed = await request(example.server).get(`/api/users/${user.id}`);
    expect((listed.body as { user: { picture: PictureJson } }).user.picture).toEqual(picture);
  });

  it('refuses a non-image, a missing file and a non-multipart body, storing nothing', async () => {
    const user = await example.models.User.create({ name: 'Nope' });
    const before = await listFiles(example.imagesDir);
    const text = await request(example.server)
      .post(`/api/users/${user.id}/picture`)
      .attach('picture', Buffer.from('just some text\n'), 'notes.txt');
    expect(text.status).toBe(415);
    expect(text.body).toEqual({
      error: { code: 'E_NOT_AN_IMAGE', message: anyString, field: 'picture' },
    });
    const truncated = await request(example.server)
      .post(`/api/users/${user.id}/picture`)
      .attach('picture', photo.subarray(0, photo.length >> 1), 'half.jpg');
    expect(truncated.status).toBe(422);
    const missing = await request(example.server)
      .post(`/api/users/${user.id}/picture`)
      .field('other', 'x');
    expect(missing.status).toBe(400);
    expect((missing.body as { error: { code: string } }).error.code).toBe('E_UPLOAD_MISSING_FILE');
    const json = await request(example.server).post(`/api/users/${user.id}/picture`).send({ a: 1 });
    expect(json.status).toBe(400);
    expect((json.body as { error: { code: string } }).error.code).toBe('E_UPLOAD_MALFORMED');
    expect(await user.picture.count()).toBe(0);
    expect(await listFiles(example.imagesDir)).toEqual(before);
  });

  it('refuses an upload for an unknown user with 404 before storing anything', async () => {
    const before = await listFiles(example.imagesDir);
    const res = await request(example.server)
      .post('/api/users/999999/picture')
      .attach('picture', photo, 'photo.jpg');
    expect(res.status).toBe(404);
    expect((res.body as { error: { code: string } }).error.code).toBe('E_USER_NOT_FOUND');
    expect(await listFiles(example.imagesDir)).toEqual(before);
  });

  it('deletes a picture (204) and its files, then answers 404 E_NO_PICTURE', async () => {
    const user = await example.models.User.create({ name: 'Gone' });
    await request(example.server)
      .post(`/api/users/${user.id}/picture`)
      .attach('picture', await jpeg(300, 200), 'p.jpg')
      .expect(201);
    const stored = (await listFiles(example.imagesDir)).filter((path) =>
      path.includes(`/${user.id}.`),
    );
    expect(stored).toHaveLength(1 + USER_THUMBNAILS.length);
    const res = await request(example.server).delete(`/api/users/${user.id}/picture`);
    expect(res.status).toBe(204);
    expect(await user.picture.count()).toBe(0);
    const left = await listFiles(example.imagesDir);
    expect(stored.filter((path) => left.includes(path))).toEqual([]);
    const again = await request(example.server).delete(`/api/users/${user.id}/picture`);
    expect(again.status).toBe(404);
    expect((again.body as { error: { code: string } }).error.code).toBe('E_NO_PICTURE');
  });

  it('creates an album, adds three photos at once (201), lists and deletes one', async () => {
    const created = await request(example.server).post('/api/albums').send({ title: 'Trip' });
    expect(created.status).toBe(201);
    const id = (created.body as { album: { id: number } }).album.id;
    expect(created.body).toEqual({ album: { id, title: 'Trip', photos: [] } });
    expect(created.headers.location).toBe(`/api/albums/${id}`);

    const upload = request(example.server).post(`/api/albums/${id}/photos`);
    for (const [index, width] of [200, 300, 400].entries()) {
      upload.attach('photos', await jpeg(width, 100), `photo-${index}.jpg`);
    }
    const res = await upload;
    expect(res.status).toBe(201);
    const { photos } = res.body as { photos: Array<PictureJson & { position: number }> };
    expect(photos.map((p) => [p.position, p.original.width])).toEqual([
      [0, 200],
      [1, 300],
      [2, 400],
    ]);
    expect(photos[0]!.thumbnails.map((image) => image.width)).toEqual([320, 640]);

    const more = await request(example.server)
      .post(`/api/albums/${id}/photos`)
      .attach('photos', await jpeg(500, 100), 'four.jpg');
    expect((more.body as { photos: Array<{ position: number }> }).photos[0]!.position).toBe(3);

    expect((await request(example.server).delete(`/api/albums/${id}/photos/1`)).status).toBe(204);
    const album = await request(example.server).get(`/api/albums/${id}`);
    const positions = (album.body as { album: { photos: Array<{ position: number }> } }).album
      .photos;
    expect(positions.map((p) => p.position)).toEqual([0, 2, 3]);
    const all = await request(example.server).get('/api/albums');
    expect((all.body as { albums: Array<{ id: number }> }).albums.map((a) => a.id)).toContain(id);
  });

  it('refuses album uploads: too many files (413), a non-image (415), unknown album or photo (404)', async () => {
    const album = await example.models.Album.create({ title: 'Limits' });
    const tooMany = request(example.server).post(`/api/albums/${album.id}/photos`);
    const small = await jpeg(20, 20);
    for (let i = 0; i <= MAX_PHOTOS_PER_UPLOAD; i += 1) tooMany.attach('photos', small, `${i}.jpg`);
    const refused = await tooMany;
    expect(refused.status).toBe(413);
    expect((refused.body as { error: { code: string } }).error.code).toBe(
      'E_UPLOAD_TOO_MANY_FILES',
    );

    const mixed = await request(example.server)
      .post(`/api/albums/${album.id}/photos`)
      .attach('photos', small, 'ok.jpg')
      .attach('photos', Buffer.from('<html></html>'), 'page.html');
    expect(mixed.status).toBe(415);
    expect(await album.photos.count()).toBe(0);

    const unknown = await request(example.server)
      .post('/api/albums/999999/photos')
      .attach('photos', small, 'ok.jpg');
    expect(unknown.status).toBe(404);
    expect((unknown.body as { error: { code: string } }).error.code).toBe('E_ALBUM_NOT_FOUND');
    const photo404 = await request(example.server).delete(`/api/albums/${album.id}/photos/7`);
    expect(photo404.status).toBe(404);
    expect((photo404.body as { error: { code: string } }).error.code).toBe('E_PHOTO_NOT_FOUND');
    expect((await request(example.server).get('/api/albums/x')).status).toBe(404);
    const noTitle = await request(example.server).post('/api/albums').send({ title: '' });
    expect(noTitle.status).toBe(422);
  });

  it('answers 404 E_NOT_FOUND as JSON for an unknown API route', async () => {
    const res = await request(example.server).get('/api/nothing');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect((res.body as { error: { code: string } }).error.code).toBe('E_NOT_FOUND');
  });
});
