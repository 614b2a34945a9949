import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileSystemStore, InvalidOptionError } from '../../src/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { validateImageKey } from '../../src/stores/keys.js';
import { readAll, testStore } from './conformance.js';

testStore(
  'FileSystemStore',
  async () => {
    const dir = await makeTempDir('fs-store');
    return {
      store: new FileSystemStore({ path: dir.path, baseUrl: 'http://mock/img' }),
      cleanup: dir.remove,
    };
  },
  (get) => {
    it('lists with keyPrefix exactly the files of that key range', async () => {
      const store = get().store;
      const ids = [0, 1, 12, 123, 1234, 12_345, 1_234_567, 2_012, -12, -1_234];
      for (const id of ids)
        await store.putFile(Buffer.from('x'), 'ranged', id, 1, 1, 'image/png', false);
      await store.putFile(Buffer.from('x'), 'ranged-not', 1, 1, 1, 'image/png', false);
      for (const [idPrefix, expected] of [
        ['1', [1, 12, 123, 1234, 12_345, 1_234_567]],
        ['12', [12, 123, 1234, 12_345, 1_234_567]],
        ['1/', [1]],
        ['2', [2_012]],
        ['-', [-12, -1_234]],
        ['0', [0]],
      ] as const) {
        const listed: string[] = [];
        for await (const file of store.listFiles({ keyPrefix: `ranged/${idPrefix}` })) {
          listed.push(`${file.key.objectType}/${file.key.objectId}`);
        }
        expect(listed.sort(), idPrefix).toEqual(expected.map((id) => `ranged/${id}`).sort());
      }
    });

    it('lays files out as type/(id mod 1000)/(id div 1000)/id.WxH.ext, as the original does', async () => {
      const store = get().store;
      const cases: Array<[bigint | number, string]> = [
        [1234, 'user/234/1/1234.100x80.jpe'],
        [0, 'user/0/0/0.100x80.jpe'],
        [5, 'user/5/0/5.100x80.jpe'],
        [1234567, 'user/567/1234/1234567.100x80.jpe'],
        [-1234, 'user/766/-2/-1234.100x80.jpe'],
        [
          158166530401166902469325588563807197535n,
          'user/535/158166530401166902469325588563807197/158166530401166902469325588563807197535.100x80.jpe',
        ],
      ];
      for (const [id, relative] of cases) {
        await store.putFile(Buffer.from(String(id)), 'user', id, 100, 80, 'image/jpeg', false);
        expect(await readFile(join(store.path, relative), 'utf8')).toBe(String(id));
        expect(store.getUrl('user', id, 100, 80, 'image/jpeg')).toBe(`http://mock/img/${relative}`);
      }
    });

    it('reads a file the Python library stored, byte for byte', async () => {
      const store = get().store;
      await mkdir(join(store.path, 'testing/234/1'), { recursive: true });
      await writeFile(join(store.path, 'testing/234/1/1234.405x640.jpe'), 'from python');
      expect(
        (await readAll(await store.getFile('testing', 1234, 405, 640, 'image/jpeg'))).toString(),
      ).toBe('from python');
    });

    it.each([
      ['a whole file stream (copied by the kernel)', {}, 0, 300_000],
      ['a ranged file stream', { start: 1000, end: 1999 }, 1000, 2000],
    ])('stores %s byte for byte, leaving the source in place', async (_name, range, from, to) => {
      const store = get().store;
      const source = join(store.path, 'source.bin');
      const bytes = randomBytes(300_000);
      await writeFile(source, bytes);
      await store.putFile(createReadStream(source, range), 'copy', 7, 2, 2, 'image/png', false);
      const stored = await readFile(join(store.path, 'copy/7/0/7.2x2.png'));
      expect(Buffer.compare(stored, bytes.subarray(from, to))).toBe(0);
      expect(Buffer.compare(await readFile(source), bytes)).toBe(0);
      expect(await readdir(join(store.path, 'copy/7/0'))).toEqual(['7.2x2.png']);
    });

    it('stores the rest of a file stream that has been read from', async () => {
      const store = get().store;
      const source = join(store.path, 'partly.bin');
      const bytes = randomBytes(200_000);
      await writeFile(source, bytes);
      const stream = createReadStream(source, { highWaterMark: 1024 });
      const first = await new Promise<Buffer>((resolve) =>
        stream.once('readable', () => resolve(stream.read(1024) as Buffer)),
      );
      await store.putFile(stream, 'rest', 8, 2, 2, 'image/png', false);
      const stored = await readFile(join(store.path, 'rest/8/0/8.2x2.png'));
      expect(Buffer.compare(Buffer.concat([first, stored]), bytes)).toBe(0);
    });

    it('leaves no temporary file behind after writes and failed writes', async () => {
      const store = get().store;
      await store.putFile(Buffer.from('x'), 'tidy', 1, 1, 1, 'image/png', false);
      const entries = await readdir(join(store.path, 'tidy/1/0'));
      expect(entries).toEqual(['1.1x1.png']);
    });
  },
  { stat: true, list: true, localPath: true, httpUrls: true },
);

describe('FileSystemStore options', () => {
  it('requires a path and a baseUrl, naming the option', () => {
    expect(() => new FileSystemStore({ path: '', baseUrl: 'http://x/' })).toThrow(
      InvalidOptionError,
    );
    const error = (() => {
      try {
        new FileSystemStore({ path: '/tmp/x', baseUrl: '' });
      } catch (e) {
        return e as InvalidOptionError;
      }
    })();
    expect(error?.code).toBe('E_INVALID_OPTION');
    expect(error?.option).toBe('baseUrl');
  });

  it('accepts the file-system root as its path', () => {
    const store = new FileSystemStore({ path: '/', baseUrl: 'http://x/' });
    const key = validateImageKey('user', 1234, 100, 80, 'image/jpeg');
    expect(store.filePath(key)).toBe('/user/234/1/1234.100x80.jpe');
  });

  it('adds the missing slash to baseUrl', () => {
    const store = new FileSystemStore({ path: '/tmp/x', baseUrl: 'http://cdn.example.com/img' });
    expect(store.getUrl('user', 1234, 100, 80, 'image/jpeg')).toBe(
      'http://cdn.example.com/img/user/234/1/1234.100x80.jpe',
    );
  });
});
