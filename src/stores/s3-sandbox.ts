/**
 * A sandbox over production images: reads fall through to an `underlying` bucket that is never
 * written, while writes and deletes land in an `overriding` bucket. Deletes leave tombstones in
 * the overriding bucket, in the original's format, so both libraries read each other's sandboxes.
 */
import type { Readable } from 'node:stream';
import { debuglog } from 'node:util';
import { ImageNotFoundError, InvalidOptionError, UrlUnavailableError } from '../errors.js';
import { isNotFound, s3Error } from './s3-errors.js';
import { s3Sdk } from './s3-sdk.js';
import type { S3StoreOptions } from './s3-options.js';
import { S3Store } from './s3.js';
import { Store, type FileInput, type Middleware, type StoredFileStat } from './store.js';

export interface S3SandboxStoreOptions extends Omit<Partial<S3StoreOptions>, 'bucket'> {
  /** The bucket read when the overriding one has no object (e.g. production): never written. */
  underlying: S3StoreOptions;
  /** The bucket every write and delete goes to. */
  overriding: S3StoreOptions;
  /**
   * Keys per ListObjects page when the overriding bucket's listing is loaded.
   * @default 1000
   */
  listPageSize?: number;
}

/** The content type of a tombstone: an empty private object standing for a deleted image. */
export const SANDBOX_DELETED_CONTENT_TYPE = 'application/x-sqlalchemy-imageattach-sandbox-deleted';

const log = debuglog('imageattach:s3');

/**
 * @example
 * const store = new S3SandboxStore({
 *   region: 'eu-west-1',
 *   underlying: { bucket: 'prod-images' },
 *   overriding: { bucket: 'dev-images', prefix: process.env.USER },
 * });
 * await store.ready(); // loads the overriding bucket's listing, which getUrl needs
 */
export class S3SandboxStore extends Store {
  readonly underlying: S3Store;
  readonly overriding: S3Store;
  readonly listPageSize: number;
  /** Overriding keys this store has written or tombstoned since it was made. */
  readonly #touched = new Set<string>();
  #listing: Set<string> | undefined;
  #loading: Promise<void> | undefined;

  constructor(options: S3SandboxStoreOptions) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'must be an object with underlying and overriding');
    }
    const { underlying, overriding, listPageSize, ...shared } = options;
    this.underlying = side('underlying', shared, underlying);
    this.overriding = side('overriding', shared, overriding);
    if (
      listPageSize !== undefined &&
      (!Number.isSafeInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000)
    ) {
      throw new InvalidOptionError('listPageSize', 'must be an integer from 1 to 1000');
    }
    this.listPageSize = listPageSize ?? 1000;
  }

  /**
   * Loads the listing of the overriding bucket (under its prefix), once; `getUrl` needs it.
   * Every async method and `middleware()` call it, so only code that locates images outside a
   * request before any other call on the store has to await it.
   */
  ready(): Promise<void> {
    this.#loading ??= this.#loadListing().catch((error: unknown) => {
      this.#loading = undefined;
      throw error;
    });
    return this.#loading;
  }

  /** Loads the overriding bucket's listing again, to see what other processes wrote. */
  async refresh(): Promise<void> {
    this.#loading = undefined;
    await this.ready();
  }

  /** Makes the store current and loads the listing before the rest of the request runs. */
  override middleware(): Middleware {
    const current = super.middleware();
    return (req, res, next) => {
      this.ready().then(() => current(req, res, next), next);
    };
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
    const key = this.overriding.objectKey(objectType, objectId, width, height, mimetype);
    await this.ready();
    await this.overriding.putFile(
      file,
      objectType,
      objectId,
      width,
      height,
      mimetype,
      reproducible,
    );
    this.#touched.add(key);
  }

  override async getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    const { bucket, client } = this.overriding;
    const key = this.overriding.objectKey(objectType, objectId, width, height, mimetype);
    await this.ready();
    let response;
    try {
      response = await client.send(new s3Sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (!isNotFound(error)) throw s3Error(error, key, 'read');
      return this.underlying.getFile(objectType, objectId, width, height, mimetype);
    }
    const body = response.Body as Readable;
    if (response.ContentType === SANDBOX_DELETED_CONTENT_TYPE) {
      body.destroy();
      throw new ImageNotFoundError(key);
    }
    return body;
  }

  /**
   * The overriding bucket's URL when the object is there (a tombstone included, as in the
   * original), else the underlying bucket's. No I/O: it answers from the listing loaded by
   * {@link ready} plus what this store has written and deleted since.
   * @throws {UrlUnavailableError} before the listing is loaded.
   */
  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    const key = this.overriding.objectKey(objectType, objectId, width, height, mimetype);
    if (this.#listing === undefined) {
      throw new UrlUnavailableError(
        'S3SandboxStore has not loaded the overriding bucket yet: await store.ready() first ' +
          '(store.middleware() does it for requests).',
      );
    }
    if (this.#touched.has(key) || this.#listing.has(key)) return this.overriding.urlOfKey(key);
    return this.underlying.getUrl(objectType, objectId, width, height, mimetype);
  }

  /** Writes a tombstone over the key in the overriding bucket; the underlying one is untouched. */
  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    const { bucket, client, acl, maxAge, thumbnailStorageClass } = this.overriding;
    const key = this.overriding.objectKey(objectType, objectId, width, height, mimetype);
    await this.ready();
    log('tombstone %s/%s', bucket, key);
    try {
      // A PUT replaces the object in one step, so there is no DELETE first as the original has.
      await client.send(
        new s3Sdk.PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: Buffer.alloc(0),
          ContentLength: 0,
          ContentType: SANDBOX_DELETED_CONTENT_TYPE,
          CacheControl: `max-age=${maxAge}`,
          ...(acl === null ? {} : { ACL: 'private' }),
          ...(thumbnailStorageClass === null ? {} : { StorageClass: thumbnailStorageClass }),
        }),
      );
    } catch (error) {
      throw s3Error(error, key, 'delete');
    }
    this.#touched.add(key);
  }

  override async statFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<StoredFileStat | undefined> {
    const { bucket, client } = this.overriding;
    const key = this.overriding.objectKey(objectType, objectId, width, height, mimetype);
    await this.ready();
    try {
      const head = await client.send(new s3Sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      if (head.ContentType === SANDBOX_DELETED_CONTENT_TYPE) return undefined;
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (!isNotFound(error)) throw s3Error(error, key, 'stat');
      return this.underlying.statFile(objectType, objectId, width, height, mimetype);
    }
  }

  /** Closes the sockets of the clients the two stores built. */
  destroy(): void {
    this.underlying.destroy();
    this.overriding.destroy();
  }

  async #loadListing(): Promise<void> {
    const { bucket, client, prefix } = this.overriding;
    const keys = new Set<string>();
    // ListObjects (v1) pages by the last key seen, which every S3-compatible server implements;
    // v2's opaque continuation tokens are not (s3rver's need DES, gone from OpenSSL 3).
    let marker: string | undefined;
    try {
      do {
        const page = await client.send(
          new s3Sdk.ListObjectsCommand({
            Bucket: bucket,
            Prefix: prefix === '' ? undefined : `${prefix}/`,
            MaxKeys: this.listPageSize,
            Marker: marker,
          }),
        );
        const contents = page.Contents ?? [];
        for (const object of contents) if (object.Key) keys.add(object.Key);
        marker = page.IsTruncated ? contents.at(-1)?.Key : undefined;
      } while (marker !== undefined);
    } catch (error) {
      throw s3Error(error, prefix, 'list');
    }
    log('listed %d keys in %s/%s', keys.size, bucket, prefix);
    this.#listing = keys;
  }
}

/** One side's store: the shared options, then the side's own; errors name the side's option. */
function side(
  name: 'underlying' | 'overriding',
  shared: Omit<Partial<S3StoreOptions>, 'bucket'>,
  own: S3StoreOptions,
): S3Store {
  if (typeof own !== 'object' || own === null) {
    throw new InvalidOptionError(name, 'must be an object with at least a bucket');
  }
  try {
    return new S3Store({ ...shared, ...own });
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    const option =
      error.option in own || error.option === 'bucket' ? `${name}.${error.option}` : error.option;
    throw new InvalidOptionError(option, error.message.replace(/^Invalid option [^:]*: /, ''));
  }
}
