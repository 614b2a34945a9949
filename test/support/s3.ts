/**
 * The S3 server the tests use: the one named by `S3_ENDPOINT` (CI's RADOS Gateway), or the
 * s3rver that global setup started. Each test file makes its own buckets and removes them.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3Store, type S3StoreOptions } from '../../src/s3.js';
import { incomingPrefix } from '../../src/stores/s3-incoming.js';
import type { TestStoreCopyOptions } from '../../src/testing.js';

export interface S3TestEnv {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `s3rver` ignores ACLs and signatures; anything else (`rgw`, AWS) enforces them. */
  kind: string;
}

export function s3Env(): S3TestEnv {
  const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_KIND } = process.env;
  if (!S3_ENDPOINT || !S3_ACCESS_KEY || !S3_SECRET_KEY) {
    throw new Error(
      'S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY are not set: run the tests through vitest, ' +
        'whose global setup starts s3rver, or source scripts/services.sh and run rgw_up',
    );
  }
  return {
    endpoint: S3_ENDPOINT,
    accessKeyId: S3_ACCESS_KEY,
    secretAccessKey: S3_SECRET_KEY,
    kind: S3_KIND ?? 'unknown',
  };
}

/** Whether the server enforces ACLs and signatures as AWS does (s3rver does neither). */
export function serverEnforcesAccess(): boolean {
  return s3Env().kind !== 's3rver';
}

/** Store options that reach the test server; the store builds its own client from them. */
export function s3StoreOptions(
  bucket: string,
  extra: Partial<S3StoreOptions> = {},
): S3StoreOptions {
  const env = s3Env();
  return {
    bucket,
    endpoint: env.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    ...extra,
  };
}

/** A client of our own, the second channel through which tests check what a store did. */
export function rawClient(): S3Client {
  const env = s3Env();
  return new S3Client({
    endpoint: env.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface TestBucket {
  name: string;
  client: S3Client;
  /** Deletes every object in the bucket, then the bucket, then closes the client. */
  remove: () => Promise<void>;
}

export async function createTestBucket(label = 'ia'): Promise<TestBucket> {
  const client = rawClient();
  const name = `${label}-${process.pid}-${randomBytes(4).toString('hex')}`.toLowerCase();
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return {
    name,
    client,
    remove: async () => {
      await emptyBucket(client, name);
      await client.send(new DeleteBucketCommand({ Bucket: name }));
      client.destroy();
    },
  };
}

export async function listKeys(
  client: S3Client,
  bucket: string,
  prefix?: string,
): Promise<string[]> {
  const keys: string[] = [];
  // v1 pages by key; s3rver's v2 continuation tokens need DES, which OpenSSL 3 lacks.
  let marker: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }),
    );
    const contents = page.Contents ?? [];
    for (const object of contents) if (object.Key) keys.push(object.Key);
    marker = page.IsTruncated ? contents.at(-1)?.Key : undefined;
  } while (marker !== undefined);
  return keys;
}

async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  // One DeleteObject per key: DeleteObjects needs a Content-MD5 some servers compute differently.
  for (const key of await listKeys(client, bucket)) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
}

/** A bucket and an S3Store on it, shaped as the conformance suite's fixture. */
export async function s3StoreFixture(
  extra: Partial<S3StoreOptions> = {},
): Promise<{ store: S3Store; bucket: TestBucket; cleanup: () => Promise<void> }> {
  const bucket = await createTestBucket();
  const store = new S3Store(s3StoreOptions(bucket.name, extra));
  return {
    store,
    bucket,
    cleanup: async () => {
      store.destroy();
      await bucket.remove();
    },
  };
}

/**
 * The conformance suite's `copy` option for S3 stores: each source is put where and as a
 * browser posts a direct upload, under `[prefix/].imageattach-incoming/`, private, typed
 * `application/octet-stream` and `attachment`, so a copy that kept its metadata would show.
 */
export const incomingSources: TestStoreCopyOptions<S3Store> = {
  async place(store, bytes) {
    const source = `${incomingPrefix(store)}${randomBytes(8).toString('hex')}`;
    const { ETag } = await store.client.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: source,
        Body: bytes,
        ACL: 'private',
        ContentType: 'application/octet-stream',
        ContentDisposition: 'attachment',
      }),
    );
    return { source, ...(ETag === undefined ? {} : { version: ETag }) };
  },
};
