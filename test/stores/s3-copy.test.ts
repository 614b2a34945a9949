/**
 * `S3Store#copyFile`: a server-side copy into the layout, with the metadata a put of the type
 * gets (never the source's), only of the version asked for, and not-found for a missing source.
 * What every store's copyFile must do, the conformance suite checks (s3.test.ts runs it).
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { S3Store } from '../../src/s3.js';
import { listKeys, s3StoreFixture, type TestBucket } from '../support/s3.js';

let store: S3Store;
let bucket: TestBucket;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, bucket, cleanup } = await s3StoreFixture({ acl: null }));
});
afterAll(async () => {
  await cleanup?.();
});

async function putIncoming(key: string, body: string) {
  return bucket.client.send(
    new PutObjectCommand({
      Bucket: bucket.name,
      Key: key,
      Body: body,
      ContentType: 'application/octet-stream',
      ContentDisposition: 'attachment',
    }),
  );
}

it('copies with the content type, Cache-Control and disposition of the image type', async () => {
  const { ETag } = await putIncoming('in/a', 'jpeg bytes');
  await store.copyFile('in/a', 'user', 1, 10, 20, 'image/jpeg', false, { ifMatch: ETag! });
  const head = await bucket.client.send(
    new HeadObjectCommand({ Bucket: bucket.name, Key: 'user/1/10x20.jpe' }),
  );
  expect(head.ContentType).toBe('image/jpeg');
  expect(head.CacheControl).toBe(`max-age=${store.maxAge}`);
  expect(head.ContentDisposition).toBeUndefined();
  const got = await bucket.client.send(
    new GetObjectCommand({ Bucket: bucket.name, Key: 'user/1/10x20.jpe' }),
  );
  expect(await got.Body!.transformToString()).toBe('jpeg bytes');

  await putIncoming('in/b', '<svg/>');
  await store.copyFile('in/b', 'user', 1, 5, 5, 'image/svg+xml', true);
  const svg = await bucket.client.send(
    new HeadObjectCommand({ Bucket: bucket.name, Key: 'user/1/5x5.svg' }),
  );
  expect(svg.ContentType).toBe('image/svg+xml');
  expect(svg.ContentDisposition).toBe('attachment');
});

it('rejects with ENOENT for a missing source', async () => {
  await expect(
    store.copyFile('in/missing', 'user', 2, 1, 1, 'image/png', false),
  ).rejects.toMatchObject({ code: 'ENOENT' });
});

it('rejects with E_STORE when the source is no longer the version asked for', async () => {
  const { ETag } = await putIncoming('in/c', 'first');
  await putIncoming('in/c', 'second, replaced after the check');
  // The copy's ETag shows it, whether or not the server honours x-amz-copy-source-if-match;
  // one that does not has copied, and the store removes what it copied.
  await expect(
    store.copyFile('in/c', 'user', 3, 1, 1, 'image/png', false, { ifMatch: ETag! }),
  ).rejects.toMatchObject({
    code: 'E_STORE',
    cause: { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } },
  });
  expect(await listKeys(bucket.client, bucket.name, 'user/3/')).toEqual([]);
});
