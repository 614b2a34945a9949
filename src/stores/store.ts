/**
 * The Store contract: four primitives every backend implements, and the helpers on top of them
 * that the models call. Stores know nothing of Sequelize: they see images only as
 * {@link ImageLike} values.
 */
import { Readable } from 'node:stream';
import { storeMiddleware } from '../http/current-store.js';
import type { Middleware } from '../http/middleware.js';
import type { ServedFolder } from '../http/serve.js';
import { describe, validateImageKey, type ImageKey } from './keys.js';

export type { Middleware } from '../http/middleware.js';

/** What `putFile` accepts: a stream (read once, never buffered whole) or bytes. */
export type FileInput = Readable | Uint8Array;

/** What the helpers need of an image: its key, whether it is the original, and its age. */
export interface ImageLike extends ImageKey {
  original: boolean;
  createdAt: Date;
  /**
   * The microseconds of `createdAt`'s second (0–999999), when known beyond its milliseconds.
   * @default createdAt's milliseconds × 1000
   */
  readonly createdAtMicroseconds?: number;
}

/** What `statFile` tells about a stored file. */
export interface StoredFileStat {
  size: number;
}

/** One file of a store's listing (see `Store.listFiles`). */
export interface ListedFile {
  /** The image key the file is stored under; for a temporary file, the key being written. */
  readonly key: ImageKey;
  /** The store's own name of the file: a path under its folder, or an object key. */
  readonly name: string;
  readonly size: number;
  readonly modifiedAt: Date;
  /**
   * A leftover of a write that never finished (its process was killed), never served; only
   * `deleteListedFile` removes it, since `deleteFile(key)` would remove the finished file.
   */
  readonly temporary: boolean;
}

/** What `copyFile` takes besides the keys. */
export interface CopyFileOptions {
  /**
   * The version (S3: the ETag) the source must still be: when it was replaced after it was
   * read, the copy fails instead of storing bytes nobody checked.
   */
  readonly ifMatch?: string;
}

/**
 * What `listFiles` takes: hints of which files are needed, which a store may use to list less
 * (a store may ignore them; callers filter what they get).
 */
export interface ListFilesOptions {
  /** Only files whose object type starts with this are needed. */
  readonly objectTypePrefix?: string;
  /**
   * Only files whose key, written `type/id/WxH.ext` (the S3 layout without its prefix),
   * starts with this are needed, e.g. `'user/12'` for the users whose id starts with 12.
   */
  readonly keyPrefix?: string;
}

/**
 * Base class of every store. Subclasses implement the four primitives; everything else is
 * built on them.
 *
 * @example
 * class MemoryStore extends Store {
 *   async putFile(file, objectType, objectId, width, height, mimetype, reproducible) { … }
 *   async getFile(objectType, objectId, width, height, mimetype) { … }
 *   getUrl(objectType, objectId, width, height, mimetype) { … }
 *   async deleteFile(objectType, objectId, width, height, mimetype) { … }
 * }
 */
export abstract class Store {
  constructor() {
    // JavaScript callers (and `as` casts) can skip an abstract method; fail here, naming it,
    // rather than with "this.putFile is not a function" at the first upload.
    const missing = PRIMITIVES.filter(
      (name) => typeof (this as unknown as Record<string, unknown>)[name] !== 'function',
    );
    if (missing.length > 0) {
      throw new TypeError(
        `${new.target.name} must implement ${missing.map((name) => `${name}()`).join(', ')} ` +
          'to be a Store',
      );
    }
  }

  /**
   * Stores a file under the key. Streams `file` without buffering it whole, and replaces any
   * file already under the key only once the new one is complete.
   * @param reproducible `true` for thumbnails (they can be made again), `false` for originals.
   * @throws {TypeError} when an argument is invalid.
   * @throws {StoreError} when the backend fails; nothing is left under the key's name then.
   */
  abstract putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
  ): Promise<void>;

  /**
   * Opens a stored file. Resolves only once the file is open.
   * @throws {ImageNotFoundError} (`code: 'ENOENT'`) when no file is stored under the key.
   * @throws {StoreError} when the backend fails.
   */
  abstract getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable>;

  /**
   * The URL of a file, by calculation only (no I/O). It may point to a missing file.
   * @throws {TypeError} when an argument is invalid.
   */
  abstract getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string;

  /**
   * Deletes a stored file. Resolves without error when the file is already gone.
   * @throws {StoreError} when the backend fails.
   */
  abstract deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void>;

  /**
   * Optional: the path of a file on this machine, for readers such as sharp that read a file
   * faster than a stream. No I/O: the file may be missing. Stores without local files leave
   * it out.
   */
  localPath?(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string;

  /**
   * Optional: the size of a stored file, or `undefined` when there is none. Migration uses it
   * to skip and verify copies; stores that cannot tell cheaply leave it out.
   */
  statFile?(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<StoredFileStat | undefined>;

  /**
   * Optional: every file the store holds, in no particular order, including the temporary
   * files of interrupted writes (`temporary: true`). Files that are not in the store's layout
   * are left out. `gc` needs it; a failure rejects the iteration with `StoreError`.
   * `options.objectTypePrefix` and `options.keyPrefix` let a store skip files that are not
   * needed; a store may ignore them (callers filter), so they only save work.
   */
  listFiles?(options?: ListFilesOptions): AsyncIterable<ListedFile>;

  /**
   * Optional, with `listFiles`: removes a listed file by its name (how `gc` removes
   * temporary files). Resolves when it is already gone.
   */
  deleteListedFile?(file: ListedFile): Promise<void>;

  /**
   * Optional: copies `source`, an object the store holds outside its layout (such as a direct
   * upload's incoming object, by the store's own name for it), to the file of a key, on the
   * backend's side: the bytes do not pass through this process. The copy gets the metadata a
   * `putFile` of `mimetype` gets (Content-Type, Cache-Control, an SVG's
   * `Content-Disposition: attachment`), never the source's. Replaces any file under the key
   * only once the copy is complete.
   * @throws {ImageNotFoundError} (`code: 'ENOENT'`) when `source` does not exist; nothing is
   * stored under the key then.
   * @throws {StoreError} when the backend fails, or `options.ifMatch` no longer matches (the
   * source changed); no copy of a changed source is left under the key.
   */
  copyFile?(
    source: string,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
    options?: CopyFileOptions,
  ): Promise<void>;

  /**
   * `true` when `getUrl` depends on its arguments alone (not on the request being served or on
   * what is stored), so a URL once made may be reused: `Image#locate` then remembers it.
   */
  get urlsAreStable(): boolean {
    return false;
  }

  /**
   * The folder of this store's files that `middleware()` serves over HTTP, when the store
   * serves its own files (`HttpExposedFileSystemStore`); `undefined` for stores whose files
   * are served elsewhere (S3, a CDN, a web server in front).
   */
  get servedFolder(): ServedFolder | undefined {
    return undefined;
  }

  /**
   * Stores the file of `image` (an original is not reproducible, a thumbnail is).
   * Like every promise-returning helper, it rejects (never throws) on a bad argument.
   */
  async store(image: ImageLike, file: FileInput): Promise<void> {
    assertImage(image);
    assertFileInput(file);
    await this.putFile(
      file,
      image.objectType,
      image.objectId,
      image.width,
      image.height,
      image.mimetype,
      !image.original,
    );
  }

  /**
   * Copies `source` (see `copyFile`) to the file of `image`.
   * @throws {TypeError} when the store has no `copyFile`.
   */
  async copy(image: ImageLike, source: string, options: CopyFileOptions = {}): Promise<void> {
    assertImage(image);
    if (typeof this.copyFile !== 'function') {
      throw new TypeError(`${this.constructor.name} cannot copy files (it has no copyFile())`);
    }
    await this.copyFile(
      source,
      image.objectType,
      image.objectId,
      image.width,
      image.height,
      image.mimetype,
      !image.original,
      options,
    );
  }

  /** Deletes the file of `image`; resolves when it is already gone. */
  async delete(image: ImageLike): Promise<void> {
    assertImage(image);
    await this.deleteFile(
      image.objectType,
      image.objectId,
      image.width,
      image.height,
      image.mimetype,
    );
  }

  /** Opens the file of `image`; rejects with `ImageNotFoundError` when it is missing. */
  async open(image: ImageLike): Promise<Readable> {
    assertImage(image);
    return await this.getFile(
      image.objectType,
      image.objectId,
      image.width,
      image.height,
      image.mimetype,
    );
  }

  /**
   * The URL of `image` with the original's cache-buster: `_ts=` and `createdAt` in UTC as
   * `YYYYMMDDHHMMSSffffff`, after `&` when the URL has a query already, else after `?`.
   */
  locate(image: ImageLike): string {
    if (typeof image !== 'object' || image === null) {
      throw new TypeError(`image must be an image object, not ${describe(image)}`);
    }
    // Each property is read once: on a Sequelize row every read goes through a getter.
    const { objectType, objectId, width, height, mimetype, original, createdAt } = image;
    const { createdAtMicroseconds } = image;
    if (typeof original !== 'boolean') {
      throw new TypeError(`image.original must be a boolean, not ${describe(original)}`);
    }
    validateCreatedAt(createdAt, createdAtMicroseconds);
    const url = this.getUrl(objectType, objectId, width, height, mimetype);
    const ts = cacheBuster(createdAt, createdAtMicroseconds);
    return `${url}${url.includes('?') ? '&' : '?'}_ts=${ts}`;
  }

  /**
   * A middleware that serves the store's {@link servedFolder}, if it has one, and runs every
   * other request with this store as the current store.
   *
   * @example
   * app.use(store.middleware());
   * app.get('/me', async (req, res) => res.json({ url: (await user.picture.original())?.locate() }));
   */
  middleware(): Middleware {
    return storeMiddleware(this);
  }
}

/** The methods every store must implement. */
const PRIMITIVES = ['putFile', 'getFile', 'getUrl', 'deleteFile'] as const;

/** The first error of a `putFile` input, watched while a store writes it. */
export interface SourceWatch {
  /** Whether the input stream failed (the caller's failure, not the backend's). */
  readonly failed: boolean;
  readonly error: unknown;
  /** Stops watching; call it when the write is over. */
  stop(): void;
}

/**
 * Watches a `putFile` input for errors, so that a store can rethrow the caller's own failure
 * as it is and wrap only its backend's in a `StoreError`.
 */
export function watchSource(file: FileInput): SourceWatch {
  const watch = { failed: false, error: undefined as unknown, stop: () => undefined };
  if (file instanceof Uint8Array) return watch;
  const onError = (error: unknown) => {
    if (watch.failed) return;
    watch.failed = true;
    watch.error = error;
  };
  file.once('error', onError);
  watch.stop = () => {
    file.off('error', onError);
  };
  return watch;
}

/** Checks what `putFile` may be given; `TypeError` naming `file`. */
export function assertFileInput(file: unknown): asserts file is FileInput {
  if (!(file instanceof Readable) && !(file instanceof Uint8Array)) {
    throw new TypeError(`file must be a Readable or a Buffer, not ${describe(file)}`);
  }
}

/**
 * `createdAt` in UTC as `YYYYMMDDHHMMSSffffff`, Python's `strftime('%Y%m%d%H%M%S%f')`: the
 * microseconds given, else the milliseconds padded to microseconds.
 */
export function cacheBuster(createdAt: Date, microseconds?: number): string {
  const iso = createdAt.toISOString(); // 2017-10-10T12:34:56.789Z
  if (iso.length !== 24) {
    throw new RangeError(`createdAt ${iso} is outside the years 0000 to 9999`);
  }
  const fraction = microseconds ?? createdAt.getUTCMilliseconds() * 1000;
  if (!Number.isInteger(fraction) || fraction < 0 || fraction > 999_999) {
    throw new RangeError(`microseconds must be an integer from 0 to 999999, not ${fraction}`);
  }
  return (
    iso.slice(0, 4) +
    iso.slice(5, 7) +
    iso.slice(8, 10) +
    iso.slice(11, 13) +
    iso.slice(14, 16) +
    iso.slice(17, 19) +
    String(fraction).padStart(6, '0')
  );
}

/** `TypeError` unless `createdAt` is a valid Date and the microseconds, if any, belong to it. */
function validateCreatedAt(createdAt: unknown, microseconds: unknown): asserts createdAt is Date {
  if (!(createdAt instanceof Date) || Number.isNaN(createdAt.getTime())) {
    throw new TypeError(`image.createdAt must be a valid Date, not ${describe(createdAt)}`);
  }
  if (
    microseconds !== undefined &&
    (!Number.isInteger(microseconds) ||
      Math.floor((microseconds as number) / 1000) !== createdAt.getUTCMilliseconds())
  ) {
    throw new TypeError(
      `image.createdAtMicroseconds must be the microseconds of createdAt's second ` +
        `(${createdAt.getUTCMilliseconds() * 1000}–${createdAt.getUTCMilliseconds() * 1000 + 999}), ` +
        `not ${describe(microseconds)}`,
    );
  }
}

/** Checks that a value has what the helpers need of an image; `TypeError` naming `image`. */
export function assertImage(image: unknown): asserts image is ImageLike {
  if (typeof image !== 'object' || image === null) {
    throw new TypeError(`image must be an image object, not ${describe(image)}`);
  }
  const { objectType, objectId, width, height, mimetype, original, createdAt } =
    image as Partial<ImageLike>;
  validateImageKey(objectType, objectId, width, height, mimetype);
  if (typeof original !== 'boolean') {
    throw new TypeError(`image.original must be a boolean, not ${describe(original)}`);
  }
  validateCreatedAt(createdAt, (image as Partial<ImageLike>).createdAtMicroseconds);
}

/**
 * Checks a user-supplied store (in the manner of umzug's `verifyUmzugStorage`): it must be a
 * `Store` subclass, because the models call the helpers the base class gives.
 */
export function assertStore(store: unknown, name = 'store'): asserts store is Store {
  if (store instanceof Store) return;
  throw new TypeError(
    `${name} must be a Store (a subclass of Store implementing putFile, getFile, getUrl and ` +
      `deleteFile), not ${describe(store)}`,
  );
}
