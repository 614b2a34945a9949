/**
 * The conformance suite every Store runs (in the shape of unstorage's `testDriver`):
 * `testStore(name, setup, extras)` registers the shared tests, then the store's own ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageNotFoundError, type Store } from '../../src/index.js';

export interface StoreFixture {
  store: Store;
  /** Removes everything the fixture created (folders, buckets, servers). */
  cleanup?: () => Promise<void>;
}

export type StoreFixtureGetter = () => StoreFixture;

/** The ids whose keys the original's layout must place exactly. */
export const SAMPLE_OBJECT_IDS: ReadonlyArray<bigint | number> = [
  0,
  5,
  1234,
  1234567,
  -1234,
  158166530401166902469325588563807197535n,
];

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream of `size` pseudo-random bytes produced in chunks, with the digest it will have. */
export function generatedStream(size: number, seed = 'seed'): { stream: Readable; sha256: string } {
  const chunk = createHash('sha512').update(seed).digest();
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i += chunk.length) chunk.copy(block, i);
  const hash = createHash('sha256');
  for (let sent = 0; sent < size; sent += block.length) {
    hash.update(block.subarray(0, Math.min(block.length, size - sent)));
  }
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const part = block.subarray(0, Math.min(block.length, size - sent));
      sent += part.length;
      this.push(Buffer.from(part));
    },
  });
  return { stream, sha256: hash.digest('hex') };
}

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

let typeCounter = 0;
/** An object type no other test uses, so tests never see each other's files. */
export function uniqueType(): string {
  typeCounter += 1;
  return `conf-${process.pid}-${typeCounter}-${randomBytes(3).toString('hex')}`;
}

export function testStore(
  name: string,
  setup: () => Promise<StoreFixture>,
  extras?: (fixture: StoreFixtureGetter) => void,
): void {
  describe(`${name} (Store conformance)`, () => {
    let fixture: StoreFixture | undefined;
    const get: StoreFixtureGetter = () => {
      if (fixture === undefined) throw new Error('the store fixture is not set up');
      return fixture;
    };
    beforeAll(async () => {
      fixture = await setup();
    });
    afterAll(async () => {
      await fixture?.cleanup?.();
    });

    it('stores a Buffer and gives the same bytes back', async () => {
      const { store } = get();
      const type = uniqueType();
      const bytes = randomBytes(4096);
      await store.putFile(bytes, type, 1234, 405, 640, 'image/jpeg', false);
      expect(await readAll(await store.getFile(type, 1234, 405, 640, 'image/jpeg'))).toEqual(bytes);
    });

    it('stores a Readable and gives the same bytes back', async () => {
      const { store } = get();
      const type = uniqueType();
      const bytes = randomBytes(200_000);
      await store.putFile(
        Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]),
        type,
        1,
        10,
        20,
        'image/png',
        true,
      );
      expect(await readAll(await store.getFile(type, 1, 10, 20, 'image/png'))).toEqual(bytes);
    });

    it('keeps files of different sizes and types of one object apart', async () => {
      const { store } = get();
      const type = uniqueType();
      await store.putFile(Buffer.from('a'), type, 7, 10, 10, 'image/png', false);
      await store.putFile(Buffer.from('b'), type, 7, 10, 11, 'image/png', true);
      await store.putFile(Buffer.from('c'), type, 7, 10, 10, 'image/webp', true);
      expect((await readAll(await store.getFile(type, 7, 10, 10, 'image/png'))).toString()).toBe(
        'a',
      );
      expect((await readAll(await store.getFile(type, 7, 10, 11, 'image/png'))).toString()).toBe(
        'b',
      );
      expect((await readAll(await store.getFile(type, 7, 10, 10, 'image/webp'))).toString()).toBe(
        'c',
      );
    });

    it('replaces a file stored under the same key', async () => {
      const { store } = get();
      const type = uniqueType();
      await store.putFile(Buffer.from('old bytes'), type, 3, 1, 1, 'image/gif', false);
      await store.putFile(Buffer.from('new'), type, 3, 1, 1, 'image/gif', false);
      expect((await readAll(await store.getFile(type, 3, 1, 1, 'image/gif'))).toString()).toBe(
        'new',
      );
    });

    it('rejects getFile of a missing file with ImageNotFoundError (ENOENT)', async () => {
      const { store } = get();
      const error: unknown = await store
        .getFile(uniqueType(), 1, 1, 1, 'image/jpeg')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageNotFoundError);
      expect((error as ImageNotFoundError).code).toBe('ENOENT');
    });

    it('deletes a file, and deleting it again is no error', async () => {
      const { store } = get();
      const type = uniqueType();
      await store.putFile(Buffer.from('x'), type, 9, 2, 2, 'image/png', false);
      await store.deleteFile(type, 9, 2, 2, 'image/png');
      await expect(store.getFile(type, 9, 2, 2, 'image/png')).rejects.toBeInstanceOf(
        ImageNotFoundError,
      );
      await expect(store.deleteFile(type, 9, 2, 2, 'image/png')).resolves.toBeUndefined();
      await expect(store.deleteFile(uniqueType(), 9, 2, 2, 'image/png')).resolves.toBeUndefined();
    });

    it('computes URLs synchronously, without the file having to exist', () => {
      const { store } = get();
      const type = uniqueType();
      const url = store.getUrl(type, 1234, 100, 80, 'image/jpeg');
      expect(typeof url).toBe('string');
      expect(url).toContain(type);
      expect(url).not.toBe(store.getUrl(type, 1234, 100, 81, 'image/jpeg'));
      expect(url).not.toBe(store.getUrl(type, 1235, 100, 80, 'image/jpeg'));
      expect(url).not.toBe(store.getUrl(type, 1234, 100, 80, 'image/png'));
      expect(new URL(url).protocol).toMatch(/^https?:$/);
    });

    it('round-trips every sample object id, each to its own file', async () => {
      const { store } = get();
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
      ['1 MiB', 1024 * 1024],
      ['50 MiB', 50 * 1024 * 1024],
    ])('streams a %s file in and out', async (_label, size) => {
      const { store } = get();
      const type = uniqueType();
      const { stream, sha256 } = generatedStream(size, type);
      await store.putFile(stream, type, 42, 4000, 3000, 'image/jpeg', false);
      expect(await sha256Of(await store.getFile(type, 42, 4000, 3000, 'image/jpeg'))).toBe(sha256);
      await store.deleteFile(type, 42, 4000, 3000, 'image/jpeg');
    });

    it('takes concurrent puts of different keys without mixing them up', async () => {
      const { store } = get();
      const type = uniqueType();
      const ids = Array.from({ length: 24 }, (_, i) => i * 1000 + 7);
      await Promise.all(
        ids.map((id) => store.putFile(randomishBytes(id), type, id, 64, 64, 'image/webp', true)),
      );
      for (const id of ids) {
        expect(await readAll(await store.getFile(type, id, 64, 64, 'image/webp'))).toEqual(
          randomishBytes(id),
        );
      }
    });

    it('leaves one whole file when concurrent puts share a key', async () => {
      const { store } = get();
      const type = uniqueType();
      const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(100_000 + i, i + 1));
      await Promise.all(
        versions.map((bytes) => store.putFile(bytes, type, 5, 8, 8, 'image/png', false)),
      );
      const stored = await readAll(await store.getFile(type, 5, 8, 8, 'image/png'));
      expect(versions.some((bytes) => bytes.equals(stored))).toBe(true);
    });

    it('rejects a put whose stream fails, and leaves no file under the key', async () => {
      const { store } = get();
      const type = uniqueType();
      const failure = new Error('source broke');
      const source = new Readable({
        read() {
          this.push(Buffer.alloc(64 * 1024, 1));
          this.destroy(failure);
        },
      });
      await expect(store.putFile(source, type, 8, 3, 3, 'image/png', false)).rejects.toBeTruthy();
      await expect(store.getFile(type, 8, 3, 3, 'image/png')).rejects.toBeInstanceOf(
        ImageNotFoundError,
      );
    });

    it('passes the input stream’s own error to the caller as it is, not as a store failure', async () => {
      const { store } = get();
      const type = uniqueType();
      const failure = new Error('the client went away');
      const source = new Readable({
        read() {
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
      const { store } = get();
      for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a\0b']) {
        expect(() => store.getUrl(bad, 1, 1, 1, 'image/png')).toThrow(TypeError);
        await expect(async () =>
          store.putFile(Buffer.from('x'), bad, 1, 1, 1, 'image/png', false),
        ).rejects.toThrow(TypeError);
        await expect(async () => store.getFile(bad, 1, 1, 1, 'image/png')).rejects.toThrow(
          TypeError,
        );
        await expect(async () => store.deleteFile(bad, 1, 1, 1, 'image/png')).rejects.toThrow(
          TypeError,
        );
      }
    });

    it('refuses object ids that are not exact integers', async () => {
      const { store } = get();
      for (const bad of [1.5, Number.NaN, 2 ** 60, '12', null]) {
        expect(() => store.getUrl('t', bad as number, 1, 1, 'image/png')).toThrow(/objectId/);
        await expect(async () =>
          store.getFile('t', bad as number, 1, 1, 'image/png'),
        ).rejects.toThrow(TypeError);
      }
    });

    it('stores, opens, locates and deletes images through the helpers', async () => {
      const { store } = get();
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

    extras?.(get);
  });
}

function randomishBytes(seed: number): Buffer {
  return createHash('sha512').update(String(seed)).digest();
}
