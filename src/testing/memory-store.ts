/**
 * A store that keeps its files in memory, for the tests of applications: every primitive, and
 * `statFile`, `listFiles` and `deleteListedFile`, so `gc`, migration and recovery run on it.
 */
// The methods are async without awaiting so that a bad key rejects rather than throws.
/* eslint-disable @typescript-eslint/require-await */
import { Readable } from 'node:stream';
import { assertFileInput, Store } from '../stores/store.js';
import type { FileInput, ListedFile, ListFilesOptions, StoredFileStat } from '../stores/store.js';
import { extensionFor, validateImageKey, type ImageKey } from '../stores/keys.js';
import { orderKeyOf } from '../stores/key-order.js';
import { ImageNotFoundError } from '../errors.js';

export interface MemoryStoreOptions {
  /**
   * What URLs start with: `getUrl` gives `baseUrl + key`, where the key is
   * `type/id/WxH.ext` as on S3.
   * @default 'memory:///'
   */
  baseUrl?: string;
}

interface MemoryFile {
  readonly key: ImageKey;
  readonly bytes: Buffer;
  readonly modifiedAt: Date;
}

/**
 * @example
 * import { MemoryStore } from 'sequelize-imageattach/testing';
 * const store = new MemoryStore();
 * await storeContext(store, () => user.picture.fromFile('face.jpg'));
 */
export class MemoryStore extends Store {
  readonly baseUrl: string;
  readonly #files = new Map<string, MemoryFile>();

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.baseUrl = options.baseUrl ?? 'memory:///';
  }

  override get urlsAreStable(): boolean {
    return true;
  }

  /** How many files it holds. */
  get size(): number {
    return this.#files.size;
  }

  async putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    _reproducible: boolean,
  ): Promise<void> {
    const { extension: _, ...key } = validateImageKey(
      objectType,
      objectId,
      width,
      height,
      mimetype,
    );
    assertFileInput(file);
    let bytes: Buffer;
    if (file instanceof Uint8Array) {
      bytes = Buffer.from(file);
    } else {
      // A failing source rejects the loop with its own error, which reaches the caller as it is.
      const chunks: Buffer[] = [];
      for await (const chunk of file) chunks.push(Buffer.from(chunk as Uint8Array));
      bytes = Buffer.concat(chunks);
    }
    this.#files.set(name(key), { key, bytes, modifiedAt: new Date() });
  }

  async getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    const key = name(validateImageKey(objectType, objectId, width, height, mimetype));
    const file = this.#files.get(key);
    if (file === undefined) throw new ImageNotFoundError(key);
    return Readable.from([file.bytes]);
  }

  getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return this.baseUrl + name(validateImageKey(objectType, objectId, width, height, mimetype));
  }

  async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    this.#files.delete(name(validateImageKey(objectType, objectId, width, height, mimetype)));
  }

  override async statFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<StoredFileStat | undefined> {
    const key = name(validateImageKey(objectType, objectId, width, height, mimetype));
    const file = this.#files.get(key);
    return file === undefined ? undefined : { size: file.bytes.length };
  }

  override async *listFiles(options: ListFilesOptions = {}): AsyncIterable<ListedFile> {
    const prefix = options.objectTypePrefix ?? '';
    for (const [fileName, file] of [...this.#files]) {
      if (!file.key.objectType.startsWith(prefix)) continue;
      if (options.keyPrefix !== undefined && !orderKeyOf(file.key).startsWith(options.keyPrefix)) {
        continue;
      }
      yield {
        key: file.key,
        name: fileName,
        size: file.bytes.length,
        modifiedAt: file.modifiedAt,
        temporary: false,
      };
    }
  }

  override async deleteListedFile(file: ListedFile): Promise<void> {
    this.#files.delete(file.name);
  }
}

function name({ objectType, objectId, width, height, mimetype }: ImageKey): string {
  return `${objectType}/${objectId}/${width}x${height}${extensionFor(mimetype)}`;
}
