import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  FileSystemStore,
  getCurrentStore,
  HttpExposedFileSystemStore,
  ImageNotFoundError,
  InvalidOptionError,
  MirrorStore,
  StoreError,
  type FileInput,
} from '../../src/index.js';
import { s3StoreFixture } from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';
import { generatedStream, readAll, testStore, uniqueType } from './conformance.js';

async function fsPair(label: string) {
  const primaryDir = await makeTempDir(`${label}-primary`);
  const mirrorDir = await makeTempDir(`${label}-mirror`);
  const primary = new FileSystemStore({ path: primaryDir.path, baseUrl: 'http://primary/' });
  const mirror = new FileSystemStore({ path: mirrorDir.path, baseUrl: 'http://mirror/' });
  return {
    primary,
    mirror,
    store: new MirrorStore({ primary, mirrors: [mirror] }),
    cleanup: async () => {
      await primaryDir.remove();
      await mirrorDir.remove();
    },
  };
}

/** A real file-system store that fails after reading `failAfter` bytes of what it is given. */
class FailingMidwayStore extends FileSystemStore {
  constructor(
    path: string,
    readonly failAfter: number,
  ) {
    super({ path, baseUrl: 'http://failing/' });
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
    if (file instanceof Uint8Array) throw new StoreError('refused bytes');
    let seen = 0;
    for await (const chunk of file) {
      seen += (chunk as Uint8Array).length;
      if (seen >= this.failAfter) throw new StoreError('disk full, on purpose');
    }
    const args = [objectType, objectId, width, height, mimetype, reproducible] as const;
    await super.putFile(Buffer.alloc(seen), ...args);
  }
}

testStore(
  'MirrorStore',
  async () => {
    const { store, cleanup } = await fsPair('mirror-conf');
    return { store, cleanup };
  },
  (get) => {
    it('writes every file to the primary and to each mirror', async () => {
      const store = get().store;
      const type = uniqueType();
      const { stream, sha256 } = generatedStream(3 * 1024 * 1024, type);
      await store.putFile(stream, type, 1234, 40, 30, 'image/jpeg', false);
      for (const target of store.stores as FileSystemStore[]) {
        const path = join(target.path, type, '234/1/1234.40x30.jpe');
        expect((await stat(path)).size).toBe(3 * 1024 * 1024);
        expect(
          createHash('sha256')
            .update(await readFile(path))
            .digest('hex'),
        ).toBe(sha256);
      }
    });
  },
  { stat: true, httpUrls: true },
);

testStore(
  'MirrorStore (file-system primary, S3 mirror)',
  async () => {
    const dir = await makeTempDir('mirror-s3-primary');
    const s3 = await s3StoreFixture();
    return {
      store: new MirrorStore({
        primary: new FileSystemStore({ path: dir.path, baseUrl: 'http://primary/' }),
        mirrors: [s3.store],
      }),
      cleanup: async () => {
        await s3.cleanup();
        await dir.remove();
      },
    };
  },
  undefined,
  { stat: true, httpUrls: true },
);

describe('MirrorStore', () => {
  it('reads, locates and stats from the primary only', async () => {
    const { store, primary, mirror, cleanup } = await fsPair('mirror-read');
    try {
      await mirror.putFile(Buffer.from('mirror only'), 'm', 1, 1, 1, 'image/png', false);
      await expect(store.getFile('m', 1, 1, 1, 'image/png')).rejects.toBeInstanceOf(
        ImageNotFoundError,
      );
      expect(await store.statFile('m', 1, 1, 1, 'image/png')).toBeUndefined();
      await primary.putFile(Buffer.from('primary'), 'p', 2, 1, 1, 'image/png', false);
      expect((await readAll(await store.getFile('p', 2, 1, 1, 'image/png'))).toString()).toBe(
        'primary',
      );
      expect(await store.statFile('p', 2, 1, 1, 'image/png')).toEqual({ size: 7 });
      expect(store.getUrl('p', 2, 1, 1, 'image/png')).toBe('http://primary/p/2/0/2.1x1.png');
    } finally {
      await cleanup();
    }
  });

  it('deletes from every store', async () => {
    const { store, primary, mirror, cleanup } = await fsPair('mirror-delete');
    try {
      await store.putFile(Buffer.from('x'), 'd', 3, 1, 1, 'image/png', false);
      await store.deleteFile('d', 3, 1, 1, 'image/png');
      for (const target of [primary, mirror]) {
        await expect(stat(join(target.path, 'd/3/0/3.1x1.png'))).rejects.toMatchObject({
          code: 'ENOENT',
        });
      }
    } finally {
      await cleanup();
    }
  });

  it('fails a write when a mirror cannot write, and leaves the file on no store', async () => {
    const { primary, cleanup } = await fsPair('mirror-fail');
    const blocker = await makeTempDir('mirror-blocker');
    // A regular file where the mirror expects a folder: every write to it fails for real.
    await writeFile(join(blocker.path, 'not-a-folder'), 'x');
    const broken = new FileSystemStore({
      path: join(blocker.path, 'not-a-folder'),
      baseUrl: 'http://broken/',
    });
    const store = new MirrorStore({ primary, mirrors: [broken] });
    try {
      const { stream } = generatedStream(2 * 1024 * 1024, 'fail');
      await expect(store.putFile(stream, 'f', 1, 1, 1, 'image/png', false)).rejects.toBeInstanceOf(
        StoreError,
      );
      await expect(
        store.putFile(Buffer.from('bytes'), 'f', 2, 1, 1, 'image/png', false),
      ).rejects.toBeInstanceOf(StoreError);
      expect(await primary.statFile('f', 1, 1, 1, 'image/png')).toBeUndefined();
      expect(await primary.statFile('f', 2, 1, 1, 'image/png')).toBeUndefined();
    } finally {
      await cleanup();
      await blocker.remove();
    }
  });

  it('removes what the primary wrote when a mirror fails halfway through a stream', async () => {
    const { primary, cleanup } = await fsPair('mirror-midway');
    const other = await makeTempDir('mirror-midway-other');
    const store = new MirrorStore({
      primary,
      mirrors: [new FailingMidwayStore(other.path, 1024 * 1024)],
    });
    try {
      const { stream } = generatedStream(1024 * 1024 + 1, 'midway');
      const small = randomBytes(10);
      await expect(store.putFile(stream, 'h', 1, 1, 1, 'image/png', false)).rejects.toThrow(
        /on purpose/,
      );
      expect(await primary.statFile('h', 1, 1, 1, 'image/png')).toBeUndefined();
      // A file that fits before the failure point is written everywhere.
      await new MirrorStore({
        primary,
        mirrors: [new FailingMidwayStore(other.path, 1024)],
      }).putFile(Readable.from([small]), 'h', 2, 1, 1, 'image/png', false);
      expect(await primary.statFile('h', 2, 1, 1, 'image/png')).toEqual({ size: 10 });
    } finally {
      await cleanup();
      await other.remove();
    }
  });

  it('makes itself the current store, and serves through an HTTP-exposed primary', async () => {
    const primaryDir = await makeTempDir('mirror-http');
    const mirrorDir = await makeTempDir('mirror-http-mirror');
    const primary = new HttpExposedFileSystemStore({ path: primaryDir.path });
    const mirror = new FileSystemStore({ path: mirrorDir.path, baseUrl: 'http://mirror/' });
    const store = new MirrorStore({ primary, mirrors: [mirror] });
    try {
      await store.putFile(Buffer.from('served'), 'web', 5, 1, 1, 'image/png', false);
      const app = express();
      app.use(store.middleware());
      app.get('/who', (_req, res) => {
        res.json({
          mirror: getCurrentStore() === store,
          url: getCurrentStore().getUrl('web', 5, 1, 1, 'image/png'),
        });
      });
      const served = await request(app).get('/images/web/5/0/5.1x1.png');
      expect(served.status).toBe(200);
      expect(Buffer.from(served.body as Buffer).toString()).toBe('served');
      const who = await request(app).get('/who');
      expect(who.body).toMatchObject({ mirror: true });
      expect((who.body as { url: string }).url).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/images\/web\//,
      );
    } finally {
      await primaryDir.remove();
      await mirrorDir.remove();
    }
  });

  it('validates its options, naming the option', () => {
    const primary = new FileSystemStore({ path: '/tmp/x', baseUrl: 'http://x/' });
    const cases: Array<[unknown, string]> = [
      [{ mirrors: [] }, 'primary'],
      [{ primary, mirrors: 'no' }, 'mirrors'],
      [{ primary, mirrors: [primary] }, 'mirrors'],
      [{ primary, mirrors: [{}] }, 'mirrors'],
    ];
    for (const [options, option] of cases) {
      let error: unknown;
      try {
        new MirrorStore(options as ConstructorParameters<typeof MirrorStore>[0]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
    }
  });
});
