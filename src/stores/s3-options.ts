/** The options of `S3Store`, their defaults, and the check that runs once in its constructor. */
import type { ObjectCannedACL, S3Client, S3ClientConfig, StorageClass } from '@aws-sdk/client-s3';
import { InvalidOptionError } from '../errors.js';
import { s3Sdk } from './s3-sdk.js';

export interface S3StoreOptions {
  /** The bucket the images are stored in. */
  bucket: string;
  /**
   * A folder inside the bucket; spaces and a trailing `/` are trimmed, as the original does.
   * @default ''
   */
  prefix?: string;
  /**
   * The URL the bucket is served at (e.g. a CloudFront distribution). `getUrl` gives
   * `publicBaseUrl + '/' + key`; without it, the object's URL on the endpoint.
   */
  publicBaseUrl?: string;
  /** The bucket's region. Without it, the SDK's chain (AWS_REGION, shared config) decides. */
  region?: string;
  /** The URL of an S3-compatible server, e.g. `http://127.0.0.1:7480`. */
  endpoint?: string;
  /**
   * Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key`; most
   * S3-compatible servers need it.
   * @default false
   */
  forcePathStyle?: boolean;
  /** Without credentials the SDK's default chain is used (environment, shared config, roles). */
  credentials?: S3ClientConfig['credentials'];
  /**
   * A ready client; the store then ignores `credentials` and `maxAttempts`, and uses `region`,
   * `endpoint` and `forcePathStyle` only to build URLs, so give them as the client has them.
   */
  client?: S3Client;
  /**
   * `Cache-Control: max-age=…` of stored objects, in seconds.
   * @default 31536000 (one year)
   */
  maxAge?: number;
  /**
   * The canned ACL of stored objects; `null` sends none, for buckets that forbid ACLs.
   * @default 'public-read'
   */
  acl?: ObjectCannedACL | null;
  /** The storage class of originals. Default: the bucket's. */
  storageClass?: StorageClass;
  /**
   * The storage class of thumbnails, which can be made again; `null` for the bucket's.
   * @default 'REDUCED_REDUNDANCY'
   */
  thumbnailStorageClass?: StorageClass | null;
  /**
   * How many times the client the store builds tries a request (transient errors and 5xx).
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Milliseconds a connection to S3 may take to open before the attempt fails (and is retried
   * up to `maxAttempts`), in clients the store builds.
   * @default 10000
   */
  connectionTimeout?: number;
  /**
   * Milliseconds a connection may go without sending or receiving a byte before the request
   * fails, a body being read included: a stalled S3 becomes an error instead of a request
   * that never ends. In clients the store builds.
   * @default 60000
   */
  socketTimeout?: number;
  /**
   * Bytes per multipart part; at most `partSize * queueSize` bytes are buffered per upload.
   * @default 5242880 (5 MiB, the S3 minimum)
   */
  partSize?: number;
  /**
   * Parts uploaded at once per upload.
   * @default 4
   */
  queueSize?: number;
}

export interface SignedUrlOptions {
  /**
   * Seconds the URL stays valid.
   * @default 3600
   */
  expiresIn?: number;
}

export const DEFAULT_MAX_AGE = 31_536_000;
export const DEFAULT_CONNECTION_TIMEOUT = 10_000;
export const DEFAULT_SOCKET_TIMEOUT = 60_000;
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Checks every option, failing with an `InvalidOptionError` that names it. */
export function validateOptions(options: S3StoreOptions): S3StoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object with at least a bucket');
  }
  const o = options;
  if (typeof o.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket)) {
    throw new InvalidOptionError(
      'bucket',
      'must be an S3 bucket name (3-63 of a-z, 0-9, ".", "-")',
    );
  }
  const strings = ['prefix', 'publicBaseUrl', 'region', 'endpoint', 'storageClass'] as const;
  for (const name of strings) {
    if (o[name] !== undefined && typeof o[name] !== 'string') {
      throw new InvalidOptionError(name, 'must be a string');
    }
  }
  for (const name of ['publicBaseUrl', 'endpoint'] as const) {
    const value = o[name];
    if (value !== undefined && !/^https?:$/.test(URL.parse(value)?.protocol ?? '')) {
      throw new InvalidOptionError(name, `must be an http(s) URL, not ${JSON.stringify(value)}`);
    }
  }
  if (o.forcePathStyle !== undefined && typeof o.forcePathStyle !== 'boolean') {
    throw new InvalidOptionError('forcePathStyle', 'must be a boolean');
  }
  if (o.client !== undefined && !(o.client instanceof s3Sdk.S3Client)) {
    throw new InvalidOptionError('client', 'must be an S3Client from @aws-sdk/client-s3');
  }
  if (o.client !== undefined && o.credentials !== undefined) {
    throw new InvalidOptionError('credentials', 'cannot be given with a ready client');
  }
  if (o.acl !== undefined && o.acl !== null && typeof o.acl !== 'string') {
    throw new InvalidOptionError('acl', 'must be a canned ACL such as "public-read", or null');
  }
  const nullable = o.thumbnailStorageClass;
  if (nullable !== undefined && nullable !== null && typeof nullable !== 'string') {
    throw new InvalidOptionError('thumbnailStorageClass', 'must be a storage class or null');
  }
  checkInteger(o, 'maxAge', 0, Number.MAX_SAFE_INTEGER);
  checkInteger(o, 'maxAttempts', 1, 100);
  checkInteger(o, 'connectionTimeout', 1, 3_600_000);
  checkInteger(o, 'socketTimeout', 1, 3_600_000);
  if (o.client !== undefined && (o.connectionTimeout ?? o.socketTimeout) !== undefined) {
    throw new InvalidOptionError(
      o.connectionTimeout === undefined ? 'socketTimeout' : 'connectionTimeout',
      'cannot be given with a ready client: set it on the client',
    );
  }
  checkInteger(o, 'partSize', MIN_PART_SIZE, 5 * 1024 ** 3);
  checkInteger(o, 'queueSize', 1, 64);
  return o;
}

function checkInteger(
  o: S3StoreOptions,
  name: 'maxAge' | 'maxAttempts' | 'connectionTimeout' | 'socketTimeout' | 'partSize' | 'queueSize',
  min: number,
  max: number,
): void {
  const value = o[name];
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, `must be an integer from ${min} to ${max}`);
  }
}
