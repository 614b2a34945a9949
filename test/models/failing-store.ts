/**
 * A real store with failures switched on at will: it forwards to the store it wraps, except
 * that puts or deletes fail while asked to. Used to test what the models do when a store
 * fails; everything else happens in the real store.
 */
import type { Readable } from 'node:stream';
import {
  OrphanFileWarning,
  Store,
  StoreError,
  type FileInput,
  type ListedFile,
  type ListFilesOptions,
} from '../../src/index.js';

export class FailingStore extends Store {
  failPuts = false;
  failDeletes = false;

  constructor(readonly inner: Store) {
    super();
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
    if (this.failPuts) throw new StoreError('put failed on purpose', objectType);
    await this.inner.putFile(file, objectType, objectId, width, height, mimetype, reproducible);
  }

  override getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    return this.inner.getFile(objectType, objectId, width, height, mimetype);
  }

  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return this.inner.getUrl(objectType, objectId, width, height, mimetype);
  }

  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    if (this.failDeletes) throw new StoreError('delete failed on purpose', objectType);
    await this.inner.deleteFile(objectType, objectId, width, height, mimetype);
  }

  override listFiles(options?: ListFilesOptions): AsyncIterable<ListedFile> {
    if (this.inner.listFiles === undefined) throw new TypeError('the inner store cannot list');
    return this.inner.listFiles(options);
  }
}

/** Collects the library's orphan-file warnings until `stop()`; `first` resolves with the first. */
export function captureWarnings(): {
  list: OrphanFileWarning[];
  first: Promise<OrphanFileWarning>;
  stop: () => void;
} {
  const list: OrphanFileWarning[] = [];
  let resolveFirst!: (warning: OrphanFileWarning) => void;
  const first = new Promise<OrphanFileWarning>((resolve) => (resolveFirst = resolve));
  const listener = (warning: Error) => {
    if (!(warning instanceof OrphanFileWarning)) return;
    list.push(warning);
    resolveFirst(warning);
  };
  process.on('warning', listener);
  return { list, first, stop: () => process.off('warning', listener) };
}
