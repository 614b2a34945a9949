/**
 * The example app's pages and their plain-form posts (the no-JavaScript path), the static
 * assets and the not-found page, on SQLite (and PostgreSQL with DATABASE_URL).
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PHOTO_FORMATS,
  PHOTO_THUMBNAILS,
  USER_THUMBNAILS,
} from '../../examples/express-app/sizes.js';
import { databaseKinds } from '../support/database.js';
import { anyString, jpeg, listFiles, openExampleApp, pathOf, type ExampleApp } from './fixture.js';

describe.each(databaseKinds())('example app pages on $name', (kind) => {
  let example: ExampleApp;

  beforeAll(async () => {
    example = await openExampleApp(kind);
  });
  afterAll(() => example?.close());

  const get = (path: string) => request(example.server).get(path);

  it('home lists people: a 128 px avatar with a 2x srcset, or initials, and the add form', async () => {
    const ada = await example.models.User.create({ name: 'Ada <Lovelace>' });
    await example.models.User.create({ name: 'Grace Hopper' });
    await request(example.server)
      .post(`/api/users/${ada.id}/picture`)
      .attach('picture', await jpeg(400, 400), 'ada.jpg')
      .expect(201);
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const img = /<img\s+class="avatar"[^>]*>/.exec(res.text)?.[0] ?? '';
    expect(img).toMatch(/src="http:\/\/127\.0\.0\.1:\d+\/images\/[^"]*\.128x128\.jpe\?_ts=\d{20}"/);
    expect(img).toMatch(
      /srcset="[^"]*\.128x128\.jpe\?_ts=\d{20} 1x, [^"]*\.256x256\.jpe\?_ts=\d{20} 2x"/,
    );
    expect(img).toContain('alt="Ada &lt;Lovelace&gt;"');
    expect(res.text).not.toContain('<Lovelace>');
    expect(res.text).toMatch(/class="avatar avatar-empty"[^>]*>\s*GH\s*</);
    expect(res.text).toMatch(/<form[^>]*method="post"[^>]*action="\/users"/);
    const avatar = /src="([^"]+)"/.exec(img)![1]!;
    expect((await get(pathOf(avatar))).status).toBe(200);
  });

  it('the add form creates a person and redirects to their page (303)', async () => {
    const res = await request(example.server).post('/users').type('form').send({ name: 'Linus' });
    expect(res.status).toBe(303);
    const user = await example.models.User.findOne({ where: { name: 'Linus' } });
    expect(res.headers.location).toBe(`/users/${user!.id}`);
  });

  it('the add form refuses an empty or too long name with 422 and says why', async () => {
    const count = await example.models.User.count();
    for (const name of ['', 'y'.repeat(61)]) {
      const res = await request(example.server).post('/users').type('form').send({ name });
      expect(res.status).toBe(422);
      expect(res.text).toMatch(/class="form-error" role="alert">\s*Give a name of 1 to 60/);
    }
    expect(await example.models.User.count()).toBe(count);
  });

  it('a user page shows the picture, every stored size with its type, the upload form and delete', async () => {
    const user = await example.models.User.create({ name: 'Sizes' });
    await request(example.server)
      .post(`/api/users/${user.id}/picture`)
      .attach('picture', await jpeg(600, 300), 'wide.jpg')
      .expect(201);
    const res = await get(`/users/${user.id}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Sizes');
    const rows = [...res.text.matchAll(/<td>(\d+) × (\d+)<\/td>\s*<td><code>([^<]+)<\/code>/g)];
    expect(rows.map((row) => `${row[1]}x${row[2]} ${row[3]}`)).toEqual([
      '600x300 image/jpeg',
      ...USER_THUMBNAILS.map((size) => `${size.width}x${size.width! / 2} image/jpeg`),
    ]);
    expect(res.text).toMatch(
      /enctype="multipart\/form-data"\s+data-upload="\/api\/users\/\d+\/picture"/,
    );
    expect(res.text).toContain('type="file"');
    expect(res.text).toContain('<progress');
    expect(res.text).toContain(`action="/users/${user.id}/picture/delete"`);
  });

  it('a user page of an unknown or malformed id is a 404 page', async () => {
    for (const path of ['/users/424242', '/users/abc']) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('There is no such user.');
    }
  });

  it('the upload form stores a picture and redirects; a refused file shows the error inline', async () => {
    const user = await example.models.User.create({ name: 'Form' });
    const ok = await request(example.server)
      .post(`/users/${user.id}/picture`)
      .attach('picture', await jpeg(200, 200), 'a.jpg');
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe(`/users/${user.id}`);
    expect(await user.picture.count()).toBe(1 + USER_THUMBNAILS.length);

    const bad = await request(example.server)
      .post(`/users/${user.id}/picture`)
      .attach('picture', Buffer.from('%PDF-1.4 not an image'), 'doc.pdf');
    expect(bad.status).toBe(415);
    // The middleware's message, shown (not hidden) next to the form.
    expect(bad.text).toMatch(/class="form-error" data-error role="alert"\s*>\s*[^<\s]/);
    expect(await user.picture.count()).toBe(1 + USER_THUMBNAILS.length);

    const unknown = await request(example.server)
      .post('/users/424242/picture')
      .attach('picture', await jpeg(20, 20), 'a.jpg');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('There is no such user.');
  });

  it('the delete button removes the picture and its files (303)', async () => {
    const user = await example.models.User.create({ name: 'Delete' });
    await request(example.server)
      .post(`/users/${user.id}/picture`)
      .attach('picture', await jpeg(210, 100), 'a.jpg')
      .expect(303);
    const before = await listFiles(example.imagesDir);
    const res = await request(example.server).post(`/users/${user.id}/picture/delete`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/users/${user.id}`);
    expect(await user.picture.count()).toBe(0);
    expect(before.length - (await listFiles(example.imagesDir)).length).toBe(
      1 + USER_THUMBNAILS.length,
    );
    expect((await request(example.server).post('/users/424242/picture/delete')).status).toBe(404);
  });

  it('albums: the list, the create form (303, or 422), the grid, photo upload and delete', async () => {
    const created = await request(example.server)
      .post('/albums')
      .type('form')
      .send({ title: 'Sea' });
    expect(created.status).toBe(303);
    const album = await example.models.Album.findOne({ where: { title: 'Sea' } });
    expect(created.headers.location).toBe(`/albums/${album!.id}`);
    const refused = await request(example.server).post('/albums').type('form').send({ title: '' });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Give a title of 1 to 60 characters.');

    const upload = await request(example.server)
      .post(`/albums/${album!.id}/photos`)
      .attach('photos', await jpeg(330, 220), 'one.jpg')
      .attach('photos', await jpeg(660, 440), 'two.jpg');
    expect(upload.status).toBe(303);
    // Each size in JPEG and in each of PHOTO_FORMATS.
    const rowsPerPhoto = 1 + PHOTO_THUMBNAILS.length * (1 + PHOTO_FORMATS.length);
    expect(await album!.photos.count()).toBe(2 * rowsPerPhoto);

    const page = await get(`/albums/${album!.id}`);
    expect(page.status).toBe(200);
    expect([...page.text.matchAll(/<figure class="photo">/g)]).toHaveLength(2);
    // <picture>: a source per format, then the JPEG <img> with its placeholder.
    for (const extension of [...PHOTO_FORMATS, 'jpe']) {
      expect(page.text).toMatch(
        new RegExp(
          `srcset="[^"]*\\.320x213\\.${extension}\\?_ts=\\d{20} 320w, [^"]*\\.640x426\\.${extension}\\?_ts=\\d{20} 640w"`,
        ),
      );
    }
    expect(page.text).toContain('<source type="image/webp"');
    expect(page.text).toMatch(
      /<img [^>]*style="background-image:url\(&quot;data:image\/png;base64,/,
    );
    expect(page.text).toContain('multiple');
    const list = await get('/albums');
    expect(list.status).toBe(200);
    expect(list.text).toContain('2 photos');

    const bad = await request(example.server)
      .post(`/albums/${album!.id}/photos`)
      .attach('photos', Buffer.from('GIF89a broken'), 'x.gif');
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('class="form-error"');

    const deleted = await request(example.server).post(`/albums/${album!.id}/photos/0/delete`);
    expect(deleted.status).toBe(303);
    expect(await album!.photos.count()).toBe(rowsPerPhoto);
    expect(
      (await request(example.server).post(`/albums/${album!.id}/photos/0/delete`)).status,
    ).toBe(404);
    expect((await get('/albums/424242')).status).toBe(404);
  });

  it('serves the stylesheet and the script, and 404s an unknown asset or page', async () => {
    const css = await get('/assets/style.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const js = await get('/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    const asset = await get('/assets/nothing.js').set('Accept', 'application/json');
    expect(asset.status).toBe(404);
    expect((asset.body as { error: { code: string } }).error.code).toBe('E_NOT_FOUND');
    const page = await get('/no/such/page');
    expect(page.status).toBe(404);
    expect(page.text).toContain('Not found');
    const json = await get('/no/such/page').set('Accept', 'application/json');
    expect(json.body).toEqual({ error: { code: 'E_NOT_FOUND', message: anyString } });
  });

  it('sends security headers with every page', async () => {
    const res = await get('/');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
