/**
 * Stores on a local folder, in the original's layout: `type/(id mod 1000)/(id div 1000)/id.WxH.ext`.
 * `FileSystemStore` assumes another server (nginx, a CDN) serves the folder at `baseUrl`;
 * `HttpExposedFileSystemStore` (in `http-exposed-fs.ts`) serves it itself.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, ReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageNotFoundError, InvalidOptionError, StoreError } from '../errors.js';
import { fileSystemSegments, validateImageKey, type ValidImageKey } from './keys.js';
import { listFileSystemStore, removeListedFile } from './fs-listing.js';
import { moveIfMovable } from './movable-file.js';
import {
  assertFileInput,
  Store,
  type FileInput,
  type ListedFile,
  type ListFilesOptions,
  type StoredFileStat,
  watchSource,
} from './store.js';

export interface FileSystemStoreOptions {
  /** The folder the images are stored under; created as needed. */
  path: string;
  /** The URL at which another server serves `path`, e.g. `https://img.example.com/`. */
  baseUrl: string;
  /**
   * Flush each file to disk before it is renamed into place, so that a power loss cannot
   * leave an empty or partial file under a committed key.
   * @default true
   */
  fsync?: boolean;
}

/** Options shared by both file-system stores. */
export interface BaseFileSystemStoreOptions {
  path: string;
  fsync?: boolean;
}

/** Temporary files of in-progress writes: dotfiles in the target's folder, never served. */
const TEMP_SUFFIX = '.tmp';

/** The storage part shared by both file-system stores: everything except where URLs point. */
export abstract class BaseFileSystemStore extends Store {
  /** The absolute path of the folder. */
  readonly path: string;
  readonly fsync: boolean;

  constructor(options: BaseFileSystemStoreOptions) {
    super();
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new InvalidOptionError('path', 'must be a non-empty string naming a folder');
    }
    if (options.fsync !== undefined && typeof options.fsync !== 'boolean') {
      throw new InvalidOptionError('fsync', 'must be a boolean');
    }
    this.path = resolve(options.path);
    this.fsync = options.fsync ?? true;
  }

  /** The URL of the folder, ending with `/`. */
  protected abstract baseUrl(): string;

  /** The absolute file path of a key; refuses any key that would leave {@link path}. */
  filePath(key: ValidImageKey): string {
    const target = join(this.path, ...fileSystemSegments(key));
    // `path` may be the root folder, which already ends with the separator.
    if (!target.startsWith(this.path.endsWith(sep) ? this.path : this.path + sep)) {
      throw new TypeError(`the key ${JSON.stringify(target)} would leave the store's folder`);
    }
    return target;
  }

  override async putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    _reproducible: boolean,
  ): Promise<void> {
    assertFileInput(file);
    const target = this.filePath(validateImageKey(objectType, objectId, width, height, mimetype));
    const temp = join(
      dirname(target),
      `.${basename(target)}.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`,
    );
    const source = watchSource(file);
    try {
      await mkdir(dirname(target), { recursive: true });
      const localPath = untouchedPathOf(file);
      if (file instanceof Uint8Array) {
        await writeFile(temp, file, { flag: 'wx', flush: this.fsync });
      } else if (localPath !== undefined) {
        // A whole local file: moved in when it may be (an upload's staged file), else the
        // kernel copies it (a reflink where the file system has them), instead of every byte
        // passing through JavaScript.
        file.destroy();
        if (!(await moveIfMovable(file, localPath, temp))) {
          await copyFile(localPath, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
        }
        if (this.fsync) await syncFile(temp);
      } else {
        await pipeline(file, createWriteStream(temp, { flags: 'wx', flush: this.fsync }));
      }
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      if (source.failed) throw source.error;
      throw new StoreError(`Could not write ${target}.`, target, { cause: error });
    } finally {
      source.stop();
    }
  }

  override async getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    const target = this.filePath(validateImageKey(objectType, objectId, width, height, mimetype));
    try {
      const handle = await open(target, 'r');
      return handle.createReadStream();
    } catch (error) {
      throw fileError(error, target, 'read');
    }
  }

  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    const key = validateImageKey(objectType, objectId, width, height, mimetype);
    const [type, mod, div, name] = fileSystemSegments(key);
    // Only the object type can hold characters a URL must escape; the rest are digits and dots.
    return `${this.baseUrl()}${encodeURIComponent(type)}/${mod}/${div}/${name}`;
  }

  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    const target = this.filePath(validateImageKey(objectType, objectId, width, height, mimetype));
    try {
      await unlink(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fileError(error, target, 'delete');
    }
  }

  override localPath(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return this.filePath(validateImageKey(objectType, objectId, width, height, mimetype));
  }

  override async statFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<StoredFileStat | undefined> {
    const target = this.filePath(validateImageKey(objectType, objectId, width, height, mimetype));
    try {
      const stats = await stat(target);
      return { size: stats.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fileError(error, target, 'stat');
    }
  }

  /** Walks the folder's layout; temporary files of interrupted writes are `temporary`. */
  override listFiles(options: ListFilesOptions = {}): AsyncIterable<ListedFile> {
    return listFileSystemStore(this.path, options);
  }

  override deleteListedFile(file: ListedFile): Promise<void> {
    return removeListedFile(this.path, file);
  }
}

/**
 * Stores images in a folder that another server (nginx, lighttpd, a CDN origin) serves at
 * `baseUrl`.
 *
 * @example
 * const store = new FileSystemStore({ path: '/var/images', baseUrl: 'https://img.example.com/' });
 * store.getUrl('user', 1234, 100, 80, 'image/jpeg');
 * // 'https://img.example.com/user/234/1/1234.100x80.jpe'
 */
export class FileSystemStore extends BaseFileSystemStore {
  readonly #baseUrl: string;

  constructor(options: FileSystemStoreOptions) {
    super(options);
    if (typeof options.baseUrl !== 'string' || options.baseUrl === '') {
      throw new InvalidOptionError('baseUrl', 'must be the URL at which `path` is served');
    }
    this.#baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  }

  override get urlsAreStable(): boolean {
    return true;
  }

  protected override baseUrl(): string {
    return this.#baseUrl;
  }
}

/** Maps an errno failure to our errors: a missing file is `ImageNotFoundError`. */
function fileError(error: unknown, target: string, action: string): Error {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new ImageNotFoundError(target, { cause: error });
  }
  return new StoreError(`Could not ${action} ${target}.`, target, { cause: error });
}

/** The path of a file stream made by `createReadStream(path)` that has read nothing yet. */
function untouchedPathOf(file: FileInput): string | undefined {
  if (!(file instanceof ReadStream) || typeof file.path !== 'string') return undefined;
  // Node keeps the range it was given on the stream, untyped.
  const { start, end } = file as ReadStream & { start?: number; end?: number };
  const whole = start === undefined && end === Infinity;
  return whole && file.bytesRead === 0 && !file.readableDidRead && !file.destroyed
    ? file.path
    : undefined;
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes the local file at `path` durable before `store` takes it by rename, so that the
 * fsync the store makes after the rename, inside the write transaction, finds nothing left to
 * write (about 1.5 ms for 2 MB on ext4, more for bigger files, out of the database's write
 * turn). Resolves once done; never rejects: the store's own fsync reports a failure. A no-op
 * for stores that take no local files or do not fsync.
 */
export async function syncAheadOfMove(store: Store | undefined, path: string): Promise<void> {
  if (!(store instanceof BaseFileSystemStore) || !store.fsync) return;
  await syncFile(path).catch(() => undefined);
}
