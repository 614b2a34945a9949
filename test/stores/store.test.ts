import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { getCurrentStore, Store, type ImageLike } from '../../src/index.js';
import { resolveServedFolder } from '../../src/http/serve.js';
import { assertStore, cacheBuster } from '../../src/stores/store.js';
import { FRAMEWORKS, sendJson } from '../support/frameworks.js';
import { MemoryStore } from '../support/memory-store.js';
import { makeTempDir } from '../support/temp-dir.js';
import { readAll } from './conformance.js';

const CREATED = new Date(Date.UTC(2017, 9, 10, 12, 34, 56, 789));

function image(overrides: Partial<ImageLike> = {}): ImageLike {
  return {
    objectType: 'user',
    objectId: 1234,
    width: 100,
    height: 80,
    mimetype: 'image/jpeg',
    original: true,
    createdAt: CREATED,
    ...overrides,
  };
}

/** A store whose URLs already carry a query string. */
class QueryStore extends MemoryStore {
  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return `${super.getUrl(objectType, objectId, width, height, mimetype)}?qs=1&qs=2`;
  }
}

describe('cacheBuster and locate', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it('formats createdAt in UTC as YYYYMMDDHHMMSSffffff', () => {
    expect(cacheBuster(CREATED)).toBe('20171010123456789000');
    expect(cacheBuster(new Date(Date.UTC(2001, 0, 2, 3, 4, 5, 6)))).toBe('20010102030405006000');
    expect(cacheBuster(new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)))).toBe(
      '19991231235959999000',
    );
  });

  it('does not depend on the local time zone', () => {
    process.env.TZ = 'Asia/Seoul';
    expect(cacheBuster(CREATED)).toBe('20171010123456789000');
    process.env.TZ = 'America/St_Johns';
    expect(cacheBuster(CREATED)).toBe('20171010123456789000');
  });

  it('appends ?_ts= to a URL without a query', () => {
    expect(new MemoryStore('m').locate(image())).toBe(
      'http://m.example/user/1234/100x80.jpe?_ts=20171010123456789000',
    );
  });

  it('appends &_ts= to a URL that has a query already', () => {
    expect(new QueryStore('q').locate(image())).toBe(
      'http://q.example/user/1234/100x80.jpe?qs=1&qs=2&_ts=20171010123456789000',
    );
  });

  it('is the same for the same createdAt and changes when createdAt moves by a second', () => {
    const store = new MemoryStore('m');
    const first = store.locate(image());
    expect(store.locate(image({ createdAt: new Date(CREATED.getTime()) }))).toBe(first);
    const later = store.locate(image({ createdAt: new Date(CREATED.getTime() + 1000) }));
    expect(later).not.toBe(first);
    expect(later.endsWith('_ts=20171010123457789000')).toBe(true);
    const sooner = store.locate(image({ createdAt: new Date(CREATED.getTime() - 1) }));
    expect(sooner.endsWith('_ts=20171010123456788000')).toBe(true);
  });
});

describe('the helpers store, open, delete and locate', () => {
  it('store() passes the key and reproducible = !original to putFile', async () => {
    const store = new MemoryStore('m');
    await store.store(image({ original: true }), Buffer.from('original'));
    await store.store(image({ width: 50, height: 40, original: false }), Buffer.from('thumb'));
    expect(store.calls).toEqual([
      'putFile user/1234/100x80.jpe false',
      'putFile user/1234/50x40.jpe true',
    ]);
  });

  it('store() takes a Readable, open() gives the bytes back, delete() removes them', async () => {
    const store = new MemoryStore('m');
    await store.store(image(), Readable.from([Buffer.from('str'), Buffer.from('eam')]));
    expect((await readAll(await store.open(image()))).toString()).toBe('stream');
    await store.delete(image());
    expect(store.files.size).toBe(0);
    expect(store.calls.at(-1)).toBe('deleteFile user/1234/100x80.jpe');
  });

  const notImages: Array<[string, unknown]> = [
    ['null', null],
    ['a string', 'user/1234'],
    ['a number', 1234],
    ['an empty object', {}],
    ['an image without createdAt', { ...image(), createdAt: undefined }],
    ['an image with an invalid Date', { ...image(), createdAt: new Date(Number.NaN) }],
    ['an image with createdAt as a string', { ...image(), createdAt: '2017-10-10' }],
    ['an image whose original is not a boolean', { ...image(), original: 1 }],
    ['an image with a bad objectType', { ...image(), objectType: '..' }],
    ['an image with a float objectId', { ...image(), objectId: 1.5 }],
    ['an image with an unknown mimetype', { ...image(), mimetype: 'image/x-nope' }],
  ];

  it.each(notImages)('refuse %s: the async helpers reject, locate throws', async (_, bad) => {
    const store = new MemoryStore('m');
    const asImage = bad as ImageLike;
    await expect(store.store(asImage, Buffer.from('x'))).rejects.toThrow(TypeError);
    await expect(store.open(asImage)).rejects.toThrow(TypeError);
    await expect(store.delete(asImage)).rejects.toThrow(TypeError);
    expect(() => store.locate(asImage)).toThrow(TypeError);
    expect(store.calls).toEqual([]);
  });

  it('refuse a width or height below 1 with a RangeError', async () => {
    const store = new MemoryStore('m');
    await expect(store.store(image({ width: 0 }), Buffer.from('x'))).rejects.toThrow(RangeError);
    await expect(store.open(image({ height: -1 }))).rejects.toThrow(/^height /);
    expect(() => store.locate(image({ width: 0 }))).toThrow(/^width must be 1 or more/);
    expect(store.calls).toEqual([]);
  });

  it('name the argument in their TypeErrors', async () => {
    const store = new MemoryStore('m');
    await expect(store.open(null as unknown as ImageLike)).rejects.toThrow(/^image must be/);
    expect(() => store.locate({ ...image(), original: 'yes' } as unknown as ImageLike)).toThrow(
      /^image\.original must be a boolean/,
    );
    expect(() => store.locate({ ...image(), createdAt: null } as unknown as ImageLike)).toThrow(
      /^image\.createdAt must be a valid Date/,
    );
    expect(() => store.locate(image({ objectId: '12' as unknown as number }))).toThrow(
      /^objectId /,
    );
  });

  it.each<[string, unknown]>([
    ['a string', 'bytes'],
    ['null', null],
    ['a file-like object with read()', { read: () => Buffer.from('x') }],
    ['an array of bytes', [1, 2, 3]],
  ])('store() refuses %s as the file with a TypeError naming file', async (_, file) => {
    const store = new MemoryStore('m');
    await expect(store.store(image(), file as Buffer)).rejects.toThrow(/^file must be/);
    expect(store.calls).toEqual([]);
  });

  it('store() accepts a Uint8Array as well as a Buffer', async () => {
    const store = new MemoryStore('m');
    await store.store(image(), new Uint8Array([1, 2, 3]));
    expect([...(store.files.get('user/1234/100x80.jpe') ?? [])]).toEqual([1, 2, 3]);
  });
});

describe('a Store that misses a primitive (the original’s miss_* tests, made real)', () => {
  abstract class WithoutPut extends Store {
    override async getFile(): Promise<Readable> {
      return Promise.resolve(Readable.from([]));
    }
    override getUrl(): string {
      return 'http://x/';
    }
    override async deleteFile(): Promise<void> {}
  }
  abstract class Empty extends Store {}
  type Constructor = new () => Store;

  it.each<[string, Constructor, string[]]>([
    ['a subclass without putFile', WithoutPut as unknown as Constructor, ['putFile()']],
    [
      'an empty subclass',
      Empty as unknown as Constructor,
      ['putFile()', 'getFile()', 'getUrl()', 'deleteFile()'],
    ],
    [
      'Store itself',
      Store as unknown as Constructor,
      ['putFile()', 'getFile()', 'getUrl()', 'deleteFile()'],
    ],
  ])(
    '%s cannot be used: constructing it throws a TypeError naming what is missing',
    (_, C, missing) => {
      let error: unknown;
      try {
        new C();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TypeError);
      for (const name of missing) expect((error as Error).message).toContain(name);
      const present = ['putFile()', 'getFile()', 'getUrl()', 'deleteFile()'].filter(
        (name) => !missing.includes(name),
      );
      for (const name of present) expect((error as Error).message).not.toContain(name);
    },
  );

  it('a complete subclass constructs', () => {
    expect(new MemoryStore('complete')).toBeInstanceOf(Store);
  });
});

describe('assertStore', () => {
  it('accepts a Store subclass', () => {
    expect(() => assertStore(new MemoryStore('m'))).not.toThrow();
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'memory'],
    ['a plain object with the four primitives', new MemoryStore('m').files],
    [
      'an object that looks like a store but is not one',
      {
        putFile: () => Promise.resolve(),
        getFile: () => Promise.resolve(Readable.from([])),
        getUrl: () => '',
        deleteFile: () => Promise.resolve(),
      },
    ],
    ['the Store class itself', Store],
  ])('refuses %s with a TypeError naming the argument', (_, value) => {
    expect(() => assertStore(value)).toThrow(/^store must be a Store/);
    expect(() => assertStore(value, 'options.store')).toThrow(/^options\.store must be a Store/);
  });
});

describe('middleware() serves the folder a store declares', () => {
  it('answers under the declared prefix and runs other requests with the store current', async () => {
    const dir = await makeTempDir('served-folder');
    try {
      await mkdir(join(dir.path, 'a'));
      await writeFile(join(dir.path, 'a/b.png'), 'declared bytes');
      const folder = resolveServedFolder({ root: dir.path, prefix: 'files' });
      class ServingStore extends MemoryStore {
        override get servedFolder() {
          return folder;
        }
      }
      const store = new ServingStore();
      const app = FRAMEWORKS[0]!
        .create()
        .use(store.middleware())
        .use((_req, res) => {
          sendJson(res, { current: getCurrentStore() === store });
        });
      const served = await request(app.listener).get('/files/a/b.png').expect(200);
      expect(served.headers['content-type']).toBe('image/png');
      expect(served.headers['x-content-type-options']).toBe('nosniff');
      expect(Buffer.from(served.body as Buffer).toString()).toBe('declared bytes');
      await request(app.listener).get('/files/a/missing.png').expect(404);
      const other = await request(app.listener).get('/other').expect(200);
      expect(other.body).toEqual({ current: true });
    } finally {
      await dir.remove();
    }
  });

  it('serves nothing for a store that declares no folder', async () => {
    const store = new MemoryStore();
    expect(store.servedFolder).toBeUndefined();
    const app = FRAMEWORKS[0]!
      .create()
      .use(store.middleware())
      .use((_req, res) => {
        sendJson(res, { current: getCurrentStore() === store });
      });
    const response = await request(app.listener).get('/images/a/b.png').expect(200);
    expect(response.body).toEqual({ current: true });
  });
});
