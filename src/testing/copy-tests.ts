/**
 * The conformance tests of `copyFile`. A generic suite cannot make an object outside a store's
 * layout, so the store's author says how, through `TestStoreCopyOptions#place`.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from './vitest.js';
import { ImageNotFoundError, StoreError } from '../errors.js';
import type { CopyFileOptions, Store } from '../stores/store.js';
import { digest, readAll, uniqueType } from './streams.js';

/** An object `place` put in the store, outside its layout. */
export interface PlacedSource {
  /** The store's own name of the object, as `copyFile` takes it (S3: the object key). */
  readonly source: string;
  /**
   * Its version, as `copyFile`'s `ifMatch` takes it (S3: the ETag); leave it out when the
   * store has no versions, and the test of `ifMatch` is skipped.
   */
  readonly version?: string;
}

/** How the suite gets sources to copy from (see `TestStoreOptions.copy`). */
export interface TestStoreCopyOptions<S extends Store = Store> {
  /**
   * Puts `bytes` in `store` outside its layout, where `copyFile` copies from (as a direct
   * upload's incoming object, `.imageattach-incoming/<id>` on S3), under a name of its own
   * that no other call gets. The suite also copies from a name it never returned (one of its
   * names with a suffix), which must reject with `ImageNotFoundError`.
   */
  place(store: S, bytes: Buffer): Promise<PlacedSource>;
}

/** The file of an image that the tests copy to: an original (not reproducible) WebP. */
const BOX = { id: 21, width: 40, height: 30, mimetype: 'image/webp' } as const;

/** Registers the tests of `copyFile`; `stat` checks copies through `statFile` too. */
export function copyTests<S extends Store>(
  get: () => S,
  copy: TestStoreCopyOptions<S>,
  stat: boolean,
): void {
  /** Places fresh random bytes, checking what `place` gives. */
  const place = async (size: number) => {
    const bytes = randomBytes(size);
    const placed = await copy.place(get(), bytes);
    expect(typeof placed.source, 'place gives the source’s name').toBe('string');
    return { bytes, ...placed };
  };
  const copyTo = (type: string, source: string, options?: CopyFileOptions) => {
    const store = get();
    expect(typeof store.copyFile, 'copyFile is implemented').toBe('function');
    const { id, width, height, mimetype } = BOX;
    return store.copyFile!(source, type, id, width, height, mimetype, false, options);
  };
  const read = async (type: string, mimetype: string = BOX.mimetype) =>
    readAll(await get().getFile(type, BOX.id, BOX.width, BOX.height, mimetype));
  /** Asserts that no file is under BOX of `type`, through getFile and, if on, statFile. */
  const expectNothingAt = async (type: string) => {
    const { id, width, height, mimetype } = BOX;
    await expect(get().getFile(type, id, width, height, mimetype)).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
    if (stat) expect(await get().statFile!(type, id, width, height, mimetype)).toBeUndefined();
  };

  it('copyFile copies a placed source to the key, with its bytes and under that type only', async () => {
    const type = uniqueType();
    const { bytes, source } = await place(5000);
    await copyTo(type, source);
    expect(digest(await read(type))).toBe(digest(bytes));
    // The type picks the key: the same box of another type stays empty.
    await expect(read(type, 'image/png')).rejects.toBeInstanceOf(ImageNotFoundError);
    if (stat) {
      const store = get();
      const { id, width, height, mimetype } = BOX;
      expect(await store.statFile!(type, id, width, height, mimetype)).toEqual({ size: 5000 });
      expect(await store.statFile!(type, id, width, height, 'image/png')).toBeUndefined();
    }
  });

  it('copyFile leaves the source as it was: it copies again, alike, through the copy helper', async () => {
    const type = uniqueType();
    const { bytes, source, version } = await place(3000);
    await copyTo(type, source, version === undefined ? {} : { ifMatch: version });
    const thumbnail = {
      objectType: type,
      objectId: 22n,
      width: 4,
      height: 3,
      mimetype: 'image/png',
      original: false,
      createdAt: new Date(),
    };
    await get().copy(thumbnail, source, version === undefined ? {} : { ifMatch: version });
    expect(digest(await readAll(await get().open(thumbnail)))).toBe(digest(bytes));
    expect(digest(await read(type))).toBe(digest(bytes));
  });

  it('copyFile replaces a file stored under the key', async () => {
    const type = uniqueType();
    const { id, width, height, mimetype } = BOX;
    await get().putFile(Buffer.from('old bytes'), type, id, width, height, mimetype, false);
    const { bytes, source } = await place(100);
    await copyTo(type, source);
    expect(digest(await read(type))).toBe(digest(bytes));
  });

  it('copyFile of a missing source rejects with ImageNotFoundError (ENOENT) and stores nothing', async () => {
    const type = uniqueType();
    const { source } = await place(10);
    const missing = `${source}-missing-${randomBytes(4).toString('hex')}`;
    const error: unknown = await copyTo(type, missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect((error as ImageNotFoundError).code).toBe('ENOENT');
    await expectNothingAt(type);
  });

  it('copyFile with an ifMatch that is not the source’s version rejects with StoreError and stores nothing', async ({
    skip,
  }) => {
    const type = uniqueType();
    const first = await place(200);
    if (first.version === undefined) skip('place gives no version: the store has no ifMatch');
    const second = await place(201);
    expect(second.version, 'different bytes have different versions').not.toBe(first.version);
    // As a source replaced after it was checked: its version is no longer the one read.
    const error: unknown = await copyTo(type, second.source, { ifMatch: first.version! }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('E_STORE');
    await expectNothingAt(type);
    await copyTo(type, second.source, { ifMatch: second.version! });
    expect(digest(await read(type))).toBe(digest(second.bytes));
  });
}
