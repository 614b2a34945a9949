/**
 * The stores the lifecycle tests run against, each with a second channel that lists what it
 * really holds: the folder for the file-system store, the raw SDK for S3.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { FileSystemStore, type Store } from '../../src/index.js';
import { fileSystemSegments, objectStorageKey, validateImageKey } from '../../src/stores/keys.js';
import { listKeys, s3StoreFixture } from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';

export interface StoreFixture {
  readonly store: Store;
  /** Every file the store holds, by its native key, sorted. */
  list(): Promise<string[]>;
  /** The native key of an image file. */
  keyOf(image: {
    objectType: string;
    objectId: bigint;
    width: number;
    height: number;
    mimetype: string;
  }): string;
  cleanup(): Promise<void>;
}

export interface StoreKind {
  readonly name: string;
  open(): Promise<StoreFixture>;
}

async function walk(root: string, dir = root): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(root, path)));
    else found.push(relative(root, path));
  }
  return found.sort();
}

const fs: StoreKind = {
  name: 'fs',
  async open() {
    const dir = await makeTempDir('imageattach-models');
    const store = new FileSystemStore({ path: dir.path, baseUrl: 'http://images.test/' });
    return {
      store,
      list: () => walk(dir.path),
      keyOf: (image) => {
        const key = validateImageKey(
          image.objectType,
          image.objectId,
          image.width,
          image.height,
          image.mimetype,
        );
        return fileSystemSegments(key).join('/');
      },
      cleanup: dir.remove,
    };
  },
};

const s3: StoreKind = {
  name: 's3',
  async open() {
    const { store, bucket, cleanup } = await s3StoreFixture();
    return {
      store,
      list: async () => (await listKeys(bucket.client, bucket.name)).sort(),
      keyOf: (image) =>
        objectStorageKey(
          validateImageKey(
            image.objectType,
            image.objectId,
            image.width,
            image.height,
            image.mimetype,
          ),
        ),
      cleanup,
    };
  },
};

/** The file-system store, and S3 (the suite's s3rver, or CI's RADOS Gateway). */
export function storeKinds(): StoreKind[] {
  return [fs, s3];
}
