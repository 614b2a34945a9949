/**
 * What only a real S3 shows: the presigned POST's policy (size range, fixed fields, key,
 * signature) enforced by the server, and the lifecycle rule for abandoned uploads. These run
 * on Ceph RADOS Gateway (`S3_KIND=rgw`, as `.ci/run` sets); s3rver ignores policies and has no
 * lifecycle rules, so there they are skipped, never passed. The cleanup count runs everywhere.
 */
import { PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureIncomingLifecycle, INCOMING_RULE_ID } from '../../src/s3.js';
import { readRules } from '../../src/stores/s3-lifecycle.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
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

const RGW = process.env.S3_KIND === 'rgw';
const NEEDS_RGW = '(needs S3_KIND=rgw: s3rver ignores POST policies and lifecycle rules)';
const MAX = 64 * 1024;

let db: TestDatabase;
let fixture: DirectFixture;
let small: Buffer;

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  fixture = await directFixture(db, { maxFileSize: MAX, thumbnails: [] });
  small = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#a33' } })
    .jpeg()
    .toBuffer();
});
afterAll(async () => {
  await fixture?.close();
  await db?.close();
});
beforeEach(async () => {
  await fixture.models.UserPicture.destroy({ where: {}, hooks: false });
  await fixture.models.User.destroy({ where: {} });
  await fixture.models.User.create({ id: 1 });
  await emptyBucket(fixture);
});

describe.skipIf(!RGW)(`the POST policy, enforced by S3 ${NEEDS_RGW}`, () => {
  it('refuses a file over maxFileSize, and an empty one: nothing lands', async () => {
    const { ticket } = await ticketFor(fixture, 1);
    const big = await postToS3(ticket, Buffer.alloc(MAX + 1, 1));
    expect(big.status).toBe(400);
    expect(await big.text()).toContain('EntityTooLarge');
    const empty = await postToS3(ticket, Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect(await incomingKeys(fixture)).toEqual([]);
    // Completing then finds nothing: 400, nothing stored.
    const res = await complete(fixture, 1, ticket.token);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'E_DIRECT_UPLOAD_MISSING' } });
    expect(await storedKeys(fixture)).toEqual([]);
  });

  it('refuses a form whose fields the client changed', async () => {
    const { ticket } = await ticketFor(fixture, 1);
    const changes: Array<Record<string, string>> = [
      { 'Content-Type': 'text/html' },
      { 'Content-Disposition': 'inline' },
      { acl: 'public-read' },
      { key: 'user-picture/1/8x8.jpe' },
      { key: `${ticket.fields.key!.slice(0, -1)}0` },
      // A policy of the client's own, without the size range, under the server's signature.
      {
        Policy: Buffer.from(
          JSON.stringify({
            expiration: new Date(Date.now() + 3600_000).toISOString(),
            conditions: [{ bucket: fixture.bucket.name }, ['starts-with', '$key', '']],
          }),
        ).toString('base64'),
      },
    ];
    for (const change of changes) {
      const posted = await postToS3({ ...ticket, fields: { ...ticket.fields, ...change } }, small);
      expect(posted.status, JSON.stringify(change)).toBe(403);
    }
    expect(await incomingKeys(fixture)).toEqual([]);
    expect(await storedKeys(fixture)).toEqual([]);
    // The form as given still works.
    expect((await postToS3(ticket, small)).ok).toBe(true);
  });

  it('keeps the incoming object private', async () => {
    const { ticket } = await ticketFor(fixture, 1);
    expect((await postToS3(ticket, small)).ok).toBe(true);
    const anonymous = await fetch(`${ticket.url.replace(/\/$/, '')}/${ticket.fields.key!}`);
    expect(anonymous.status).toBe(403);
  });
});

describe.skipIf(!RGW)(`ensureIncomingLifecycle ${NEEDS_RGW}`, () => {
  it('adds the rule beside the bucket’s own, reads it back, and leaves it be the second time', async () => {
    await fixture.bucket.client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: fixture.bucket.name,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'logs',
              Status: 'Enabled',
              Filter: { Prefix: 'logs/' },
              Expiration: { Days: 30 },
            },
          ],
        },
      }),
    );
    const rule = await ensureIncomingLifecycle(fixture.store);
    expect(rule).toMatchObject({
      ID: INCOMING_RULE_ID,
      Status: 'Enabled',
      Filter: { Prefix: '.imageattach-incoming/' },
      Expiration: { Days: 1 },
    });
    const rules = await readRules(fixture.store);
    expect(rules.map((r) => r.ID).sort()).toEqual([INCOMING_RULE_ID, 'logs']);
    expect(await ensureIncomingLifecycle(fixture.store)).toMatchObject({ ID: INCOMING_RULE_ID });
    expect(await readRules(fixture.store)).toHaveLength(2);
  });
});

describe('ensureIncomingLifecycle, on any S3', () => {
  it('refuses days that are not a positive whole number, naming the option', async () => {
    for (const days of [0, -1, 1.5, Number.NaN]) {
      await expect(ensureIncomingLifecycle(fixture.store, { days })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        option: 'days',
      });
    }
  });

  it('resolves with the rule read back where S3 keeps it, else rejects with E_STORE (not 503)', async () => {
    const ensured = ensureIncomingLifecycle(fixture.store);
    if (RGW) {
      await expect(ensured).resolves.toMatchObject({ ID: INCOMING_RULE_ID, Status: 'Enabled' });
    } else {
      // s3rver has no lifecycle rules: the start-up check must fail loudly, and as the
      // permanent refusal it is, not as an outage to wait out.
      await expect(ensured).rejects.toMatchObject({ code: 'E_STORE' });
    }
  });
});

it(`leaves only abandoned uploads in the incoming prefix (${RGW ? 200 : 30} uploads; 200 and the rule's read-back on RGW)`, async () => {
  const count = RGW ? 200 : 30;
  const abandoned: string[] = [];
  let failed = 0;
  let stored = 0;
  for (let i = 0; i < count; i += 1) {
    const { ticket } = await ticketFor(fixture, 1);
    if (i % 6 === 1) {
      // Posted, never completed.
      expect((await postToS3(ticket, small)).ok).toBe(true);
      abandoned.push(ticket.fields.key!);
      continue;
    }
    const bytes = i % 6 === 3 ? Buffer.from(`not an image ${i}`) : small;
    expect((await postToS3(ticket, bytes)).ok).toBe(true);
    const res = await complete(fixture, 1, ticket.token);
    if (i % 6 === 3) {
      expect(res.status).toBe(415);
      failed += 1;
    } else {
      expect(res.status).toBe(200);
      stored += 1;
    }
  }
  expect(failed + abandoned.length).toBe(Math.round(count / 3));
  expect(stored).toBe(count - failed - abandoned.length);
  expect((await incomingKeys(fixture)).sort()).toEqual(abandoned.sort());
  expect(await storedKeys(fixture)).toEqual(['user-picture/1/8x8.jpe']);
  if (RGW) {
    const rule = await ensureIncomingLifecycle(fixture.store);
    const rules = await readRules(fixture.store);
    const covering = rules.find((r) => r.ID === rule.ID);
    expect(covering?.Expiration?.Days).toBe(1);
    for (const key of abandoned) expect(key.startsWith(covering!.Filter!.Prefix!)).toBe(true);
  }
  // 200 sequential round trips take most of a minute on RGW alone, more beside the suite.
}, 600_000);
