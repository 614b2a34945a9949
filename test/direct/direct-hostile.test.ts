/**
 * The project's hostile-file corpus through the direct path: each file posted to S3, then
 * completed, gets the status and code `uploadImage` gives it, and nothing stays in either the
 * store's layout or the incoming prefix. Where S3 enforces the policy (RGW), the files it may
 * not take (empty, too large) never land at all.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { serverEnforcesAccess } from '../support/s3.js';
import { listDir } from '../middleware/upload-fixtures.js';
import { hostileFiles } from '../reliability/hostile-files.js';
import {
  complete,
  directFixture,
  emptyBucket,
  incomingKeys,
  postToS3,
  storedKeys,
  ticketFor,
  type DirectFixture,
} from './direct-fixture.js';

const MAX_FILE_SIZE = 4 * 1024 * 1024;

let db: TestDatabase;
let fixture: DirectFixture;

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  // The options of the hostile-upload test's uploadImage route.
  fixture = await directFixture(db, {
    maxFileSize: MAX_FILE_SIZE,
    formats: ['jpeg', 'png', 'webp', 'avif', 'gif', 'svg'],
  });
  await fixture.models.User.create({ id: 1 });
});
afterAll(async () => {
  await fixture?.close();
  await db?.close();
});

describe('hostile files through directUploads', async () => {
  // Part-header tricks (names, types, control bytes) belong to multipart, which S3 parses here.
  const files = (await hostileFiles()).filter(
    (file) => !('code' in file.expect && file.expect.code === 'E_UPLOAD_MALFORMED'),
  );

  test('there are at least 30', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  test.each(files.map((file) => ({ file, name: file.name })))('$name', async ({ file }) => {
    const { ticket } = await ticketFor(fixture, 1);
    const posted = await postToS3(ticket, file.bytes);
    if (!posted.ok) {
      // Only a server enforcing the policy refuses, and only what the policy rules out.
      expect(serverEnforcesAccess()).toBe(true);
      expect(file.bytes.length === 0 || file.bytes.length > MAX_FILE_SIZE, file.name).toBe(true);
      expect(posted.status).toBe(400);
      expect(await incomingKeys(fixture)).toEqual([]);
      return;
    }
    const res = await complete(fixture, 1, ticket.token);
    if ('accepted' in file.expect) {
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((res.body as { mimetype: string }).mimetype).toBe(file.expect.accepted);
      await fixture.models.UserPicture.destroy({ where: {}, hooks: false });
      await emptyBucket(fixture);
    } else {
      expect([res.status, (res.body as { error?: { code?: string } }).error?.code]).toEqual([
        file.expect.status,
        file.expect.code,
      ]);
      expect(await fixture.models.UserPicture.count()).toBe(0);
      expect(await storedKeys(fixture)).toEqual([]);
    }
    expect(await incomingKeys(fixture)).toEqual([]);
    expect(await listDir(fixture.tmp.path)).toEqual([]);
  });
});
