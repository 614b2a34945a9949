/**
 * Stores on Amazon S3 or an S3-compatible server, in the original's layout:
 * `[prefix/]type/id/WxH.ext`. Import it from `sequelize-imageattach/s3`, so that users of the
 * file-system stores never load the AWS SDK.
 */
import type { Readable } from 'node:stream';
import { debuglog } from 'node:util';
import {
  GetObjectCommand,
  HeadObjectCommand,
  DeleteObjectCommand,
  S3Client,
  type ObjectCannedACL,
  type S3ClientConfig,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { InvalidOptionError } from '../errors.js';
import { objectStorageKey, validateImageKey } from './keys.js';
import { s3Error, isNotFound } from './s3-errors.js';
import { objectUrl, type ObjectUrlOptions } from './s3-url.js';
import {
  assertFileInput,
  assertImage,
  Store,
  type FileInput,
  type ImageLike,
  type StoredFileStat,
} from './store.js';

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
const MIN_PART_SIZE = 5 * 1024 * 1024;
const log = debuglog('imageattach:s3');

/**
 * @example
 * const store = new S3Store({ bucket: 'my-images', region: 'eu-west-1', prefix: 'prod' });
 * store.getUrl('user', 1234, 100, 80, 'image/jpeg');
 * // 'https://my-images.s3.eu-west-1.amazonaws.com/prod/user/1234/100x80.jpe'
 */
export class S3Store extends Store {
  readonly bucket: string;
  readonly prefix: string;
  readonly maxAge: number;
  readonly acl: ObjectCannedACL | null;
  readonly storageClass: StorageClass | undefined;
  readonly thumbnailStorageClass: StorageClass | null;
  readonly #url: ObjectUrlOptions;
  readonly #config: S3ClientConfig | undefined;
  readonly #partSize: number;
  readonly #queueSize: number;
  #client: S3Client | undefined;

  constructor(options: S3StoreOptions) {
    super();
    const o = validateOptions(options);
    this.bucket = o.bucket;
    this.prefix = (o.prefix ?? '').trim().replace(/\/+$/, '');
    this.maxAge = o.maxAge ?? DEFAULT_MAX_AGE;
    this.acl = o.acl === undefined ? 'public-read' : o.acl;
    this.storageClass = o.storageClass;
    this.thumbnailStorageClass =
      o.thumbnailStorageClass === undefined ? 'REDUCED_REDUNDANCY' : o.thumbnailStorageClass;
    this.#partSize = o.partSize ?? MIN_PART_SIZE;
    this.#queueSize = o.queueSize ?? 4;
    this.#url = {
      bucket: o.bucket,
      publicBaseUrl: o.publicBaseUrl?.replace(/\/+$/, ''),
      region: o.region,
      endpoint: o.endpoint,
      forcePathStyle: o.forcePathStyle ?? false,
    };
    this.#client = o.client;
    this.#config =
      o.client === undefined
        ? {
            region: o.region,
            endpoint: o.endpoint,
            forcePathStyle: o.forcePathStyle,
            credentials: o.credentials,
            maxAttempts: o.maxAttempts ?? 5,
            // The SDK's default (WHEN_SUPPORTED) sends stream bodies aws-chunked with a trailing
            // checksum. S3-compatible servers that do not speak it either refuse the upload
            // (Ceph RGW: 411) or store the chunk framing as the object's bytes (s3rver). Upload
            // sends every part as a buffer whose SHA-256 is signed, so S3 still checks the bytes.
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }
        : undefined;
    log(
      'S3Store bucket=%s prefix=%j region=%s endpoint=%s forcePathStyle=%s client=%s credentials=%s',
      this.bucket,
      this.prefix,
      o.region ?? '(SDK chain)',
      o.endpoint ?? '(AWS)',
      String(o.forcePathStyle ?? false),
      o.client === undefined ? 'built' : 'given',
      o.credentials === undefined ? '(SDK chain)' : '[redacted]',
    );
  }

  /** The S3 client, built on first use unless one was given. */
  get client(): S3Client {
    this.#client ??= new S3Client(this.#config ?? {});
    return this.#client;
  }

  /** Closes the sockets of a client the store built; a given client is left to its owner. */
  destroy(): void {
    if (this.#config === undefined) return;
    this.#client?.destroy();
    this.#client = undefined;
  }

  /** The object key of an image file: `[prefix/]type/id/WxH.ext`. */
  objectKey(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return objectStorageKey(
      validateImageKey(objectType, objectId, width, height, mimetype),
      this.prefix,
    );
  }

  /** The URL of an object key (see {@link getUrl}). */
  urlOfKey(key: string): string {
    return objectUrl(this.#url, key);
  }

  override async putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
  ): Promise<void> {
    assertFileInput(file);
    const key = this.objectKey(objectType, objectId, width, height, mimetype);
    const storageClass = reproducible ? this.thumbnailStorageClass : this.storageClass;
    let sourceError: Error | undefined;
    const onSourceError = (error: Error) => (sourceError ??= error);
    if (!(file instanceof Uint8Array)) file.once('error', onSourceError);
    log('put %s/%s', this.bucket, key);
    try {
      const upload = new Upload({
        client: this.client,
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
        params: {
          Bucket: this.bucket,
          Key: key,
          Body: file,
          ContentType: mimetype,
          CacheControl: `max-age=${this.maxAge}`,
          ...(this.acl === null ? {} : { ACL: this.acl }),
          ...(storageClass == null ? {} : { StorageClass: storageClass }),
        },
      });
      await upload.done();
    } catch (error) {
      if (sourceError !== undefined) throw sourceError;
      throw s3Error(error, key, 'store');
    } finally {
      if (!(file instanceof Uint8Array)) file.off('error', onSourceError);
    }
  }

  override async getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    const key = this.objectKey(objectType, objectId, width, height, mimetype);
    log('get %s/%s', this.bucket, key);
    try {
      const { Body } = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      return Body as Readable;
    } catch (error) {
      throw s3Error(error, key, 'read');
    }
  }

  /**
   * `publicBaseUrl + '/' + key` when `publicBaseUrl` is set; else the object's URL on the
   * endpoint: virtual-hosted style on AWS, path style with `forcePathStyle`. No I/O.
   */
  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return this.urlOfKey(this.objectKey(objectType, objectId, width, height, mimetype));
  }

  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    const key = this.objectKey(objectType, objectId, width, height, mimetype);
    log('delete %s/%s', this.bucket, key);
    try {
      // S3 answers 204 whether or not the key exists, so deleting twice is no error.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw s3Error(error, key, 'delete');
    }
  }

  override async statFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<StoredFileStat | undefined> {
    const key = this.objectKey(objectType, objectId, width, height, mimetype);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error(error, key, 'stat');
    }
  }

  /** A presigned GET URL of a file, for private buckets (the file need not exist yet). */
  async getSignedUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    options: SignedUrlOptions = {},
  ): Promise<string> {
    const key = this.objectKey(objectType, objectId, width, height, mimetype);
    const expiresIn = options.expiresIn ?? 3600;
    if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
      throw new RangeError(`expiresIn must be 1 to 604800 seconds, not ${expiresIn}`);
    }
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn,
    });
  }

  /** A presigned GET URL of `image` (see {@link getSignedUrl}). */
  async locateSigned(image: ImageLike, options: SignedUrlOptions = {}): Promise<string> {
    assertImage(image);
    return this.getSignedUrl(
      image.objectType,
      image.objectId,
      image.width,
      image.height,
      image.mimetype,
      options,
    );
  }
}

function validateOptions(options: S3StoreOptions): S3StoreOptions {
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
  if (o.client !== undefined && !(o.client instanceof S3Client)) {
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
  checkInteger(o, 'partSize', MIN_PART_SIZE, 5 * 1024 ** 3);
  checkInteger(o, 'queueSize', 1, 64);
  return o;
}

function checkInteger(
  o: S3StoreOptions,
  name: 'maxAge' | 'maxAttempts' | 'partSize' | 'queueSize',
  min: number,
  max: number,
): void {
  const value = o[name];
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, `must be an integer from ${min} to ${max}`);
  }
}
