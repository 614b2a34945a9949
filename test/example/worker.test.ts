/**
 * The example app on PostgreSQL (with DATABASE_URL): its in-process worker
 * (examples/express-app/worker.ts) makes the thumbnails after the upload, which answers with
 * them pending; the user page lists the sizes still pending.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFromUrl } from '../../src/index.js';
import { createApp } from '../../examples/express-app/app.js';
import { defineModels, type Models } from '../../examples/express-app/models.js';
import { USER_THUMBNAILS } from '../../examples/express-app/sizes.js';
import { userPage } from '../../examples/express-app/views/user.js';
import { startWorker, type RunningWorker } from '../../examples/express-app/worker.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { urlOf } from '../jobs/boss-fixture.js';
import { jpeg } from './fixture.js';

const postgres = databaseKinds().filter((kind) => kind.name === 'postgres');
const WIDTHS = USER_THUMBNAILS.map((size) => size.width);

describe.runIf(postgres.length > 0)('the example app with its worker (PostgreSQL)', () => {
  let db: TestDatabase;
  let models: Models;
  let worker: RunningWorker;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let server: ReturnType<ReturnType<typeof createApp>['listen']>;

  beforeAll(async () => {
    db = await postgres[0]!.open();
    models = defineModels(db.sequelize);
    await db.sequelize.sync();
    dir = await makeTempDir('example-worker');
    const storeUrl = pathToFileURL(join(dir.path, 'images')).href;
    const store = await storeFromUrl(storeUrl);
    worker = await startWorker(db.sequelize, store, urlOf(db.sequelize));
    const app = createApp({ sequelize: db.sequelize, models, store, storeUrl, jobs: worker.jobs });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await worker?.stop();
    await db?.close();
    await dir?.remove();
  });

  it('answers the upload with pending thumbnails, which the worker then makes', async () => {
    const user = await models.User.create({ name: 'Later' });
    const res = await request(server)
      .post(`/api/users/${user.id}/picture`)
      .attach('picture', await jpeg(640, 480), 'photo.jpg');
    expect(res.status).toBe(201);
    const { picture } = res.body as {
      picture: {
        original: { url: string };
        thumbnails: Array<{ width: number; url: string; pending?: boolean }>;
      };
    };
    expect(picture.thumbnails.map((image) => [image.width, image.pending])).toEqual(
      WIDTHS.map((width) => [width, true]),
    );
    for (const image of picture.thumbnails) expect(image.url).toBe(picture.original.url);

    while ((await user.picture.count()) < 1 + WIDTHS.length) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const page = await request(server).get(`/users/${user.id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('data-pending');
    for (const width of WIDTHS) expect(page.text).toContain(`${width} × `);
  });

  it('lists the sizes still pending on the user page', () => {
    const original = { url: '/images/1.jpe', width: 640, height: 480, mimetype: 'image/jpeg' };
    const made = { ...original, url: '/images/2.jpe', width: WIDTHS[0]!, height: 96 };
    const page = (thumbnails: (typeof original)[]) =>
      userPage({ id: 1, name: 'Pending', picture: { original, thumbnails } }).value;
    expect(page([])).toContain(`data-pending="${WIDTHS.join(' ')}"`);
    expect(page([made])).toContain(`data-pending="${WIDTHS.slice(1).join(' ')}"`);
  });
});
