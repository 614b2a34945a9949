/**
 * A store that writes to several stores at once: the way to move images to a new store without
 * downtime (Active Storage's mirror service is the model). Writes and deletes go to every
 * store; reads, URLs and serving come from the primary.
 */
import { PassThrough, type Readable } from 'node:stream';
import { ImageNotFoundError, InvalidOptionError } from '../errors.js';
import { storeMiddleware } from '../http/current-store.js';
import {
  assertFileInput,
  Store,
  type FileInput,
  type Middleware,
  type StoredFileStat,
} from './store.js';

export interface MirrorStoreOptions {
  /** The store reads, URLs and `statFile` come from, and whose middleware serves requests. */
  primary: Store;
  /** The stores that receive a copy of every write and every delete. */
  mirrors: readonly Store[];
}

/**
 * @example
 * // Step 1 of a move from disk to S3: new images go to both, reads stay on disk.
 * const store = new MirrorStore({ primary: diskStore, mirrors: [s3Store] });
 * app.use(store.middleware());
 */
export class MirrorStore extends Store {
  readonly primary: Store;
  readonly mirrors: readonly Store[];

  constructor(options: MirrorStoreOptions) {
    super();
    if (!(options?.primary instanceof Store)) {
      throw new InvalidOptionError('primary', 'must be a Store');
    }
    const mirrors: unknown = options.mirrors;
    if (!isStoreArray(mirrors)) {
      throw new InvalidOptionError('mirrors', 'must be an array of Stores');
    }
    const all = [options.primary, ...mirrors];
    if (new Set(all).size !== all.length) {
      throw new InvalidOptionError('mirrors', 'must not repeat a store or contain the primary');
    }
    this.primary = options.primary;
    this.mirrors = [...mirrors];
  }

  /** The primary, then the mirrors. */
  get stores(): readonly Store[] {
    return [this.primary, ...this.mirrors];
  }

  /**
   * Writes to every store at once, reading a stream only once (the slowest store sets the
   * pace). When any write fails, the others are stopped and whatever was written is deleted,
   * so that no store keeps a file the caller was told failed.
   */
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
    const stores = this.stores;
    const inputs = file instanceof Uint8Array ? stores.map(() => file) : tee(file, stores.length);
    let firstError: { error: unknown } | undefined;
    const fail = (error: unknown) => {
      firstError ??= { error };
      // A failed store stops reading; without this the others would wait on it forever.
      if (!(file instanceof Uint8Array)) {
        for (const input of inputs as PassThrough[]) input.destroy(toError(error));
        file.destroy();
      }
    };
    const results = await Promise.allSettled(
      stores.map((store, i) =>
        store
          .putFile(inputs[i]!, objectType, objectId, width, height, mimetype, reproducible)
          .catch((error: unknown) => {
            fail(error);
            throw error;
          }),
      ),
    );
    if (firstError === undefined) return;
    await Promise.allSettled(
      stores
        .filter((_, i) => results[i]!.status === 'fulfilled')
        .map((store) => store.deleteFile(objectType, objectId, width, height, mimetype)),
    );
    throw firstError.error;
  }

  override getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    return this.primary.getFile(objectType, objectId, width, height, mimetype);
  }

  override get urlsAreStable(): boolean {
    return this.primary.urlsAreStable;
  }

  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return this.primary.getUrl(objectType, objectId, width, height, mimetype);
  }

  /** Deletes from every store, even when one fails; then rejects with the first failure. */
  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    const results = await Promise.allSettled(
      this.stores.map((store) => store.deleteFile(objectType, objectId, width, height, mimetype)),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  override async statFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<StoredFileStat | undefined> {
    if (this.primary.statFile !== undefined) {
      return this.primary.statFile(objectType, objectId, width, height, mimetype);
    }
    // The primary cannot tell sizes cheaply: count the bytes, which is slow but right.
    let stream: Readable;
    try {
      stream = await this.primary.getFile(objectType, objectId, width, height, mimetype);
    } catch (error) {
      if (error instanceof ImageNotFoundError) return undefined;
      throw error;
    }
    let size = 0;
    for await (const chunk of stream) size += (chunk as Uint8Array).length;
    return { size };
  }

  /** The primary's middleware (it may serve files), with this store as the current store. */
  override middleware(): Middleware {
    return storeMiddleware(this, this.primary.middleware());
  }
}

/** Splits one stream into `count` streams that each see every byte, with shared backpressure. */
function tee(source: Readable, count: number): PassThrough[] {
  const outputs = Array.from({ length: count }, () => {
    const output = new PassThrough();
    // Stores attach their own listeners; this only keeps an early error from being unhandled.
    output.on('error', () => undefined);
    return output;
  });
  source.once('error', (error) => {
    for (const output of outputs) output.destroy(error);
  });
  for (const output of outputs) source.pipe(output);
  return outputs;
}

function isStoreArray(value: unknown): value is readonly Store[] {
  return Array.isArray(value) && value.every((item) => item instanceof Store);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
