/**
 * The conformance suite of the `Store` contract, in the shape of unstorage's `testDriver`: one
 * call registers the tests under Vitest, the optional methods by capability flag.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from './vitest.js';
import { ImageNotFoundError } from '../errors.js';
import type { ListedFile, Store } from '../stores/store.js';
import { copyTests, type TestStoreCopyOptions } from './copy-tests.js';
import {
  digest,
  generatedStream,
  randomishBytes,
  readAll,
  SAMPLE_OBJECT_IDS,
  sha256Of,
  uniqueType,
} from './streams.js';

/** What a store offers beyond the four primitives; each flag adds the tests of that part. */
export interface TestStoreOptions<S extends Store = Store> {
  /**
   * The store implements `statFile`: the size of a stored file, `undefined` for a missing one.
   * @default false
   */
  stat?: boolean;
  /**
   * The store implements `listFiles` and `deleteListedFile` (what `gc` needs).
   * @default false
   */
  list?: boolean;
  /**
   * The store implements `localPath`: an absolute path on this machine holding the file's bytes.
   * @default false
   */
  localPath?: boolean;
  /**
   * `getUrl` gives `http:` or `https:` URLs (browsers can load them); otherwise any absolute URL.
   * @default false
   */
  httpUrls?: boolean;
  /**
   * The store implements `copyFile`, and `place` puts the sources it copies from: the copy must
   * hold the source's bytes under the key of its type, leave the source as it was, reject a
   * missing source with `ImageNotFoundError` and, when `place` gives versions, a wrong
   * `ifMatch` with `StoreError`, storing nothing. Leave it out for a store without `copyFile`.
   * @default undefined (no tests of copyFile)
   */
  copy?: TestStoreCopyOptions<S>;
  /**
   * The size in bytes of the largest file streamed in and out; a store that keeps files in
   * memory may lower it.
   * @default 52428800 (50 MiB)
   */
  largeFileSize?: number;
}

const MIB = 1024 * 1024;

/**
 * Registers the conformance tests of a store with Vitest (an optional peer dependency of this
 * package), in a `describe` block named after the store. `factory` is called once, before the
 * tests; they share the store and keep apart by object type, so it may hold other files.
 *
 * @example
 * import { testStore } from 'sequelize-imageattach/testing';
 * testStore('MyStore', () => new MyStore({ bucket: 'test' }), { stat: true, httpUrls: true });
 */
export function testStore<S extends Store>(
  name: string,
  factory: () => S | Promise<S>,
  options: TestStoreOptions<S> = {},
): void {
  const largeFileSize = options.largeFileSize ?? 50 * MIB;
  if (!Number.isSafeInteger(largeFileSize) || largeFileSize < MIB) {
    throw new RangeError(`largeFileSize must be a whole number of bytes, at least ${MIB}`);
  }
  if (options.copy !== undefined && typeof options.copy.place !== 'function') {
    throw new TypeError('copy.place must be a function that puts a source in the store');
  }
  describe(`${name} (Store conformance)`, () => {
    let current: S | undefined;
    const get = (): S => {
      if (current === undefined) throw new Error(`the factory of ${name} did not give a store`);
      return current;
    };
    beforeAll(async () => {
      current = await factory();
    });

    primitiveTests(get, largeFileSize);
    urlTests(get, options.httpUrls ?? false);
    if (options.stat === true) statTests(get);
    if (options.list === true) listTests(get);
    if (options.localPath === true) localPathTests(get);
    if (options.copy !== undefined) copyTests(get, options.copy, options.stat === true);
  });
}

function primitiveTests(get: () => Store, largeFileSize: number): void {
  it('stores a Buffer and gives the same bytes back', async () => {
    const store = get();
    const type = uniqueType();
    const bytes = randomBytes(4096);
    await store.putFile(bytes, type, 1234, 405, 640, 'image/jpeg', false);
    const stored = await readAll(await store.getFile(type, 1234, 405, 640, 'image/jpeg'));
    expect(digest(stored)).toBe(digest(bytes));
  });

  it('stores a Readable and gives the same bytes back', async () => {
    const store = get();
    const type = uniqueType();
    const bytes = randomBytes(200_000);
    const source = Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]);
    await store.putFile(source, type, 1, 10, 20, 'image/png', true);
    const stored = await readAll(await store.getFile(type, 1, 10, 20, 'image/png'));
    expect(digest(stored)).toBe(digest(bytes));
  });

  it('keeps files of different sizes and types of one object apart', async () => {
    const store = get();
    const type = uniqueType();
    await store.putFile(Buffer.from('a'), type, 7, 10, 10, 'image/png', false);
    await store.putFile(Buffer.from('b'), type, 7, 10, 11, 'image/png', true);
    await store.putFile(Buffer.from('c'), type, 7, 10, 10, 'image/webp', true);
    const text = async (height: number, mimetype: string) =>
      (await readAll(await store.getFile(type, 7, 10, height, mimetype))).toString();
    expect(await text(10, 'image/png')).toBe('a');
    expect(await text(11, 'image/png')).toBe('b');
    expect(await text(10, 'image/webp')).toBe('c');
  });

  it('replaces a file stored under the same key', async () => {
    const store = get();
    const type = uniqueType();
    await store.putFile(Buffer.from('old bytes'), type, 3, 1, 1, 'image/gif', false);
    await store.putFile(Buffer.from('new'), type, 3, 1, 1, 'image/gif', false);
    const stored = await readAll(await store.getFile(type, 3, 1, 1, 'image/gif'));
    expect(stored.toString()).toBe('new');
  });

  it('rejects getFile of a missing file with ImageNotFoundError (ENOENT)', async () => {
    const error: unknown = await get()
      .getFile(uniqueType(), 1, 1, 1, 'image/jpeg')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect((error as ImageNotFoundError).code).toBe('ENOENT');
  });

  it('deletes a file, and deleting it again is no error', async () => {
    const store = get();
    const type = uniqueType();
    await store.putFile(Buffer.from('x'), type, 9, 2, 2, 'image/png', false);
    await store.deleteFile(type, 9, 2, 2, 'image/png');
    await expect(store.getFile(type, 9, 2, 2, 'image/png')).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
    await expect(store.deleteFile(type, 9, 2, 2, 'image/png')).resolves.toBeUndefined();
    await expect(store.deleteFile(uniqueType(), 9, 2, 2, 'image/png')).resolves.toBeUndefined();
  });

  it('round-trips every sample object id, each to its own file', async () => {
    const store = get();
    const type = uniqueType();
    for (const id of SAMPLE_OBJECT_IDS) {
      await store.putFile(Buffer.from(`id ${id}`), type, id, 100, 80, 'image/jpeg', false);
    }
    for (const id of SAMPLE_OBJECT_IDS) {
      const bytes = await readAll(await store.getFile(type, id, 100, 80, 'image/jpeg'));
      expect(bytes.toString()).toBe(`id ${id}`);
    }
    const urls = new Set(
      SAMPLE_OBJECT_IDS.map((id) => store.getUrl(type, id, 100, 80, 'image/jpeg')),
    );
    expect(urls.size).toBe(SAMPLE_OBJECT_IDS.length);
    expect(store.getUrl(type, 1234, 1, 1, 'image/png')).toBe(
      store.getUrl(type, 1234n, 1, 1, 'image/png'),
    );
  });

  it.each([
    ['1 MiB', MIB],
    ['large', largeFileSize],
  ])('streams a %s file in and out', async (_label, size) => {
    const store = get();
    const type = uniqueType();
    const { stream, sha256 } = generatedStream(size, type);
    await store.putFile(stream, type, 42, 4000, 3000, 'image/jpeg', false);
    expect(await sha256Of(await store.getFile(type, 42, 4000, 3000, 'image/jpeg'))).toBe(sha256);
    await store.deleteFile(type, 42, 4000, 3000, 'image/jpeg');
  });

  it('takes concurrent puts of different keys without mixing them up', async () => {
    const store = get();
    const type = uniqueType();
    const ids = Array.from({ length: 24 }, (_, i) => i * 1000 + 7);
    await Promise.all(
      ids.map((id) => store.putFile(randomishBytes(id), type, id, 64, 64, 'image/webp', true)),
    );
    for (const id of ids) {
      const stored = await readAll(await store.getFile(type, id, 64, 64, 'image/webp'));
      expect(stored).toEqual(randomishBytes(id));
    }
  });

  it('leaves one whole file when concurrent puts share a key', async () => {
    const store = get();
    const type = uniqueType();
    const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(100_000 + i, i + 1));
    await Promise.all(
      versions.map((bytes) => store.putFile(bytes, type, 5, 8, 8, 'image/png', false)),
    );
    const stored = await readAll(await store.getFile(type, 5, 8, 8, 'image/png'));
    expect(versions.some((bytes) => bytes.equals(stored))).toBe(true);
  });

  it('rejects a put whose stream fails, and leaves no file under the key', async () => {
    const store = get();
    const type = uniqueType();
    const source = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 1));
        this.destroy(new Error('source broke'));
      },
    });
    await expect(store.putFile(source, type, 8, 3, 3, 'image/png', false)).rejects.toBeTruthy();
    await expect(store.getFile(type, 8, 3, 3, 'image/png')).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
  });

  it('passes the input stream’s own error to the caller as it is, not as a store failure', async () => {
    const store = get();
    const type = uniqueType();
    const failure = new Error('the client went away');
    let sent = false;
    // One chunk, then the failure a moment later, as a client that disconnects sends it.
    const source = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(Buffer.alloc(16 * 1024, 2));
        setImmediate(() => this.destroy(failure));
      },
    });
    await expect(store.putFile(source, type, 9, 3, 3, 'image/png', false)).rejects.toBe(failure);
    await expect(store.getFile(type, 9, 3, 3, 'image/png')).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
  });

  it('refuses object types that are not one path segment', async () => {
    const store = get();
    for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a\0b']) {
      expect(() => store.getUrl(bad, 1, 1, 1, 'image/png')).toThrow(TypeError);
      await expect(async () =>
        store.putFile(Buffer.from('x'), bad, 1, 1, 1, 'image/png', false),
      ).rejects.toThrow(TypeError);
      await expect(async () => store.getFile(bad, 1, 1, 1, 'image/png')).rejects.toThrow(TypeError);
      await expect(async () => store.deleteFile(bad, 1, 1, 1, 'image/png')).rejects.toThrow(
        TypeError,
      );
    }
  });

  it('refuses object ids that are not exact integers', async () => {
    const store = get();
    for (const bad of [1.5, Number.NaN, 2 ** 60, '12', null]) {
      expect(() => store.getUrl('t', bad as number, 1, 1, 'image/png')).toThrow(/objectId/);
      await expect(async () =>
        store.getFile('t', bad as number, 1, 1, 'image/png'),
      ).rejects.toThrow(TypeError);
    }
  });

  it('stores, opens, locates and deletes images through the helpers', async () => {
    const store = get();
    const image = {
      objectType: uniqueType(),
      objectId: 77n,
      width: 20,
      height: 10,
      mimetype: 'image/png',
      original: true,
      createdAt: new Date(Date.UTC(2017, 9, 10, 12, 34, 56, 789)),
    };
    await store.store(image, Buffer.from('helper bytes'));
    expect((await readAll(await store.open(image))).toString()).toBe('helper bytes');
    const url = store.locate(image);
    expect(url.startsWith(store.getUrl(image.objectType, 77n, 20, 10, 'image/png'))).toBe(true);
    expect(url.endsWith('_ts=20171010123456789000')).toBe(true);
    await store.delete(image);
    await expect(store.open(image)).rejects.toBeInstanceOf(ImageNotFoundError);
  });
}

function urlTests(get: () => Store, httpUrls: boolean): void {
  it(`computes ${httpUrls ? 'http(s)' : 'absolute'} URLs synchronously, without the file having to exist`, () => {
    const store = get();
    const type = uniqueType();
    const url = store.getUrl(type, 1234, 100, 80, 'image/jpeg');
    expect(typeof url).toBe('string');
    expect(url).toContain(type);
    expect(url).not.toBe(store.getUrl(type, 1234, 100, 81, 'image/jpeg'));
    expect(url).not.toBe(store.getUrl(type, 1235, 100, 80, 'image/jpeg'));
    expect(url).not.toBe(store.getUrl(type, 1234, 100, 80, 'image/png'));
    expect(URL.canParse(url), `${url} is an absolute URL`).toBe(true);
    if (httpUrls) expect(new URL(url).protocol).toMatch(/^https?:$/);
  });
}

function statTests(get: () => Store): void {
  it('statFile gives the size of a stored file, and undefined for a missing one', async () => {
    const store = get();
    expect(typeof store.statFile, 'statFile is implemented').toBe('function');
    const type = uniqueType();
    await store.putFile(randomBytes(3210), type, 12, 30, 20, 'image/png', false);
    expect(await store.statFile!(type, 12, 30, 20, 'image/png')).toEqual({ size: 3210 });
    expect(await store.statFile!(type, 12, 30, 21, 'image/png')).toBeUndefined();
    await store.deleteFile(type, 12, 30, 20, 'image/png');
    expect(await store.statFile!(type, 12, 30, 20, 'image/png')).toBeUndefined();
  });
}

async function listed(store: Store, objectType: string): Promise<ListedFile[]> {
  const files: ListedFile[] = [];
  // A store may ignore the prefix (callers filter), so the test filters too.
  for await (const file of store.listFiles!({ objectTypePrefix: objectType })) {
    if (file.key.objectType === objectType) files.push(file);
  }
  return files;
}

function listTests(get: () => Store): void {
  it('listFiles lists every stored file with its key, size and time', async () => {
    const store = get();
    expect(typeof store.listFiles, 'listFiles is implemented').toBe('function');
    const type = uniqueType();
    const before = Date.now();
    await store.putFile(randomBytes(100), type, 1234, 10, 20, 'image/png', false);
    await store.putFile(randomBytes(50), type, 1234, 5, 10, 'image/webp', true);
    await store.putFile(randomBytes(70), type, -7, 5, 10, 'image/jpeg', true);
    const files = (await listed(store, type)).filter((file) => !file.temporary);
    const keys = files.map(({ key, size }) => ({
      id: String(key.objectId),
      size,
      box: `${key.width}x${key.height}`,
      mimetype: key.mimetype,
    }));
    expect(keys.sort((a, b) => a.size - b.size)).toEqual([
      { id: '1234', size: 50, box: '5x10', mimetype: 'image/webp' },
      { id: '-7', size: 70, box: '5x10', mimetype: 'image/jpeg' },
      { id: '1234', size: 100, box: '10x20', mimetype: 'image/png' },
    ]);
    for (const file of files) {
      expect(typeof file.name).toBe('string');
      expect(file.modifiedAt).toBeInstanceOf(Date);
      // Clocks of remote stores differ a little from ours.
      expect(file.modifiedAt.getTime()).toBeGreaterThan(before - 10 * 60_000);
    }
  });

  it('listFiles with keyPrefix lists every file whose key starts with it', async () => {
    const store = get();
    const type = uniqueType();
    const ids = [0, 1, 2, 12, 21, 123, 1000, 1234, 12_345, 120_000, -12];
    for (const id of ids) await store.putFile(Buffer.from('x'), type, id, 1, 1, 'image/png', false);
    for (const idPrefix of ['1', '12', '1/', '2', '0', '-']) {
      const keyPrefix = `${type}/${idPrefix}`;
      const found: string[] = [];
      // A store may list more than the prefix asks for (callers filter), never less.
      for await (const file of store.listFiles!({ objectTypePrefix: type, keyPrefix })) {
        const key = `${file.key.objectType}/${file.key.objectId}/`;
        if (key.startsWith(keyPrefix) && !file.temporary) found.push(String(file.key.objectId));
      }
      const expected = ids.filter((id) => `${id}/`.startsWith(idPrefix)).map(String);
      expect(found.sort(), keyPrefix).toEqual(expected.sort());
    }
  });

  it('listFiles no longer lists a deleted file', async () => {
    const store = get();
    const type = uniqueType();
    await store.putFile(Buffer.from('x'), type, 3, 1, 1, 'image/png', false);
    expect(await listed(store, type)).toHaveLength(1);
    await store.deleteFile(type, 3, 1, 1, 'image/png');
    expect(await listed(store, type)).toEqual([]);
  });

  it('deleteListedFile removes a listed file, and removing it again is no error', async () => {
    const store = get();
    expect(typeof store.deleteListedFile, 'deleteListedFile is implemented').toBe('function');
    const type = uniqueType();
    await store.putFile(Buffer.from('x'), type, 4, 1, 1, 'image/png', false);
    const [file] = await listed(store, type);
    expect(file).toBeDefined();
    await store.deleteListedFile!(file!);
    await expect(store.getFile(type, 4, 1, 1, 'image/png')).rejects.toBeInstanceOf(
      ImageNotFoundError,
    );
    await expect(store.deleteListedFile!(file!)).resolves.toBeUndefined();
    expect(await listed(store, type)).toEqual([]);
  });
}

function localPathTests(get: () => Store): void {
  it('localPath gives an absolute path holding the file’s bytes, without I/O', async () => {
    const store = get();
    expect(typeof store.localPath, 'localPath is implemented').toBe('function');
    const type = uniqueType();
    const path = store.localPath!(type, 5, 6, 7, 'image/gif');
    expect(typeof path).toBe('string');
    expect(isAbsolute(path)).toBe(true);
    const bytes = randomBytes(777);
    await store.putFile(bytes, type, 5, 6, 7, 'image/gif', false);
    expect(store.localPath!(type, 5, 6, 7, 'image/gif')).toBe(path);
    expect(digest(await readFile(path))).toBe(digest(bytes));
    expect(store.localPath!(type, 5, 6, 8, 'image/gif')).not.toBe(path);
  });
}
