/**
 * `directUploads({ later })`: the completion stores the original and sends its thumbnails as a
 * job in the same transaction, answering them pending (the original's URL meanwhile); the job
 * makes them after the commit, from the stored original. In process, on the first database.
 */
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import {
  directFixture,
  incomingKeys,
  storedKeys,
  uploadDirectly,
  type DirectFixture,
} from './direct-fixture.js';

let db: TestDatabase;
let fixture: DirectFixture;
let jobs: ImageJobs;

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  fixture = await directFixture(db, {
    thumbnails: [{ width: 16 }],
    // The jobs need the fixture's store, made with the router: handed on once both exist.
    later: { scheduleThumbnails: (...args) => jobs.scheduleThumbnails(...args) },
  });
  jobs = imageJobs({ sequelize: db.sequelize, store: fixture.store });
  await fixture.models.User.create({ id: 1 });
});
afterEach(async () => {
  await jobs?.stop();
});
afterAll(async () => {
  await fixture?.close();
  await db?.close();
});

it('answers the thumbnails pending and makes them after the commit', async () => {
  const bytes = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#357' } })
    .jpeg()
    .toBuffer();
  const res = await uploadDirectly(fixture, 1, bytes);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const body = res.body as { url: string; thumbnails: string[] };
  // Pending: the original stands in for the thumbnail until the job has run.
  expect(body.thumbnails).toEqual([body.url]);
  expect(await incomingKeys(fixture)).toEqual([]);

  await jobs.onIdle();
  expect(await storedKeys(fixture)).toEqual([
    'user-picture/1/16x8.jpe',
    'user-picture/1/64x32.jpe',
  ]);
  const rows = await fixture.models.UserPicture.findAll({ where: { userId: 1 } });
  expect(rows.map((row) => `${row.width}x${row.height}`).sort()).toEqual(['16x8', '64x32']);
});
