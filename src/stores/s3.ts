/**
 * Stores on Amazon S3 or an S3-compatible server, in the original's layout:
 * `[prefix/]type/id/WxH.ext`. Import it from `sequelize-imageattach/s3`, so that users of the
 * file-system stores never load the AWS SDK.
 */
import type { Readable } from 'node:stream';
import { debuglog } from 'node:util';
import type { ObjectCannedACL, S3Client, S3ClientConfig, StorageClass } from '@aws-sdk/client-s3';
import { InvalidOptionError, StoreError } from '../errors.js';
import { objectStorageKey, validateImageKey } from './keys.js';
import {
  DEFAULT_CONNECTION_TIMEOUT,
  DEFAULT_MAX_AGE,
  DEFAULT_SOCKET_TIMEOUT,
  MIN_PART_SIZE,
  validateOptions,
  type S3StoreOptions,
  type SignedUrlOptions,
} from './s3-options.js';
import { s3Error, isNotFound } from './s3-errors.js';
import { libStorage, presigner, s3Sdk } from './s3-sdk.js';
import { objectUrl, type ObjectUrlOptions } from './s3-url.js';
import {
  assertFileInput,
  assertImage,
  Store,
  type CopyFileOptions,
  type FileInput,
  type ImageLike,
  type ListedFile,
  type ListFilesOptions,
  type StoredFileStat,
  watchSource,
} from './store.js';
import { deleteListedObject, listS3Store } from './s3-listing.js';

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
            // Without them a stalled S3 would hold a request (and an upload's transaction)
            // forever: the SDK sets no timeout by default.
            requestHandler: {
              connectionTimeout: o.connectionTimeout ?? DEFAULT_CONNECTION_TIMEOUT,
              socketTimeout: o.socketTimeout ?? DEFAULT_SOCKET_TIMEOUT,
            },
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
    this.#client ??= new s3Sdk.S3Client(this.#config ?? {});
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
    const source = watchSource(file);
    log('put %s/%s', this.bucket, key);
    const params = {
      Bucket: this.bucket,
      Key: key,
      ContentType: mimetype,
      CacheControl: `max-age=${this.maxAge}`,
      ...(isSvg(mimetype) ? { ContentDisposition: 'attachment' } : {}),
      ...(this.acl === null ? {} : { ACL: this.acl }),
      ...(storageClass == null ? {} : { StorageClass: storageClass }),
    };
    try {
      if (file instanceof Uint8Array && file.length <= this.#partSize) {
        // Bytes in hand: one signed PutObject, without Upload's part buffering. A stream that
        // turns out to fit one part also goes up as one PutObject (Upload does that itself).
        await this.client.send(
          new s3Sdk.PutObjectCommand({ ...params, Body: file, ContentLength: file.length }),
        );
        return;
      }
      const upload = new libStorage.Upload({
        client: this.client,
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
        params: { ...params, Body: file },
      });
      await upload.done();
    } catch (error) {
      if (source.failed) throw source.error;
      throw s3Error(error, key, 'store');
    } finally {
      source.stop();
    }
  }

  override async copyFile(
    source: string,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
    options: CopyFileOptions = {},
  ): Promise<void> {
    if (typeof source !== 'string' || source === '') {
      throw new TypeError('source must be an object key of the bucket');
    }
    const key = this.objectKey(objectType, objectId, width, height, mimetype);
    const storageClass = reproducible ? this.thumbnailStorageClass : this.storageClass;
    log('copy %s/%s to %s', this.bucket, source, key);
    let copied: string | undefined;
    try {
      // REPLACE: the source's own metadata (a direct upload's octet-stream attachment) must
      // not follow it; the copy gets what putFile would give the type.
      const { CopyObjectResult } = await this.client.send(
        new s3Sdk.CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'REPLACE',
          ContentType: mimetype,
          CacheControl: `max-age=${this.maxAge}`,
          ...(isSvg(mimetype) ? { ContentDisposition: 'attachment' } : {}),
          ...(this.acl === null ? {} : { ACL: this.acl }),
          ...(storageClass == null ? {} : { StorageClass: storageClass }),
          ...(options.ifMatch === undefined ? {} : { CopySourceIfMatch: options.ifMatch }),
        }),
      );
      // Not every S3 honours the condition (Ceph RGW, s3rver copy regardless); a copy's ETag
      // is its bytes' MD5 as the source's is, so a different one means different bytes.
      copied = CopyObjectResult?.ETag;
    } catch (error) {
      throw s3Error(error, isNotFound(error) ? source : key, 'copy to');
    }
    if (options.ifMatch !== undefined && unquoted(copied) !== unquoted(options.ifMatch)) {
      // Bytes nobody checked must not be served, as on an S3 that honours the condition,
      // which copies nothing; should the delete fail, the caller's rollback removes them.
      await this.deleteFile(objectType, objectId, width, height, mimetype).catch(
        (error: unknown) => {
          log('could not remove %s, copied from a changed %s: %o', key, source, error);
        },
      );
      // The cause is what an S3 that honours the condition answers, so callers tell both alike.
      const changed = `The S3 object ${source} changed before it was copied to ${key} (ETag ${String(copied)}, not ${options.ifMatch}).`;
      throw new StoreError(changed, key, {
        cause: Object.assign(new Error(changed), {
          name: 'PreconditionFailed',
          $metadata: { httpStatusCode: 412 },
        }),
      });
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
        new s3Sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }),
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
  /** URLs are computed from the options and the key alone. */
  override get urlsAreStable(): boolean {
    return true;
  }

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
      await this.client.send(new s3Sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
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
      const head = await this.client.send(
        new s3Sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw s3Error(error, key, 'stat');
    }
  }

  /** Lists the objects of the store's layout under its prefix (see `Store.listFiles`). */
  override listFiles(options: ListFilesOptions = {}): AsyncIterable<ListedFile> {
    return listS3Store(this.client, this.bucket, this.prefix, options);
  }

  override deleteListedFile(file: ListedFile): Promise<void> {
    return deleteListedObject(this.client, this.bucket, this.prefix, file);
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
      throw new InvalidOptionError('expiresIn', `must be 1 to 604800 seconds, not ${expiresIn}`);
    }
    return presigner.getSignedUrl(
      this.client,
      new s3Sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }),
      {
        expiresIn,
      },
    );
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

/**
 * SVGs are stored with `Content-Disposition: attachment`: an `<img>` still shows them, but a
 * browser opening one as a page saves it instead of running it, wherever S3 serves it from.
 */
function isSvg(mimetype: string): boolean {
  return mimetype.toLowerCase() === 'image/svg+xml';
}

/** An ETag without its quotes (Ceph RGW answers a copy's ETag bare). */
function unquoted(etag: string | undefined): string | undefined {
  return etag?.replace(/^(?:W\/)?"(.*)"$/, '$1');
}
