/**
 * `variantRouter` and `set.variantUrl()` on SQLite and PostgreSQL: signed URLs answered by
 * redirect or by the file, forged, cut and tampered signatures refused before anything is read,
 * sizes outside `allow` never decoded, and concurrent first requests making one row and one file.
 * Decodes are counted as reads of the original's file from the store.
 */
import { readdir } from 'node:fs/promises';
import express, { type Express } from 'express';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FileSystemStore,
  InvalidOptionError,
  variantRouter,
  type VariantRouterOptions,
} from '../../src/index.js';
import { lockNameForWrite } from '../../src/models/file-locks.js';
import { jpeg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';

const SECRET = 'a secret of at least thirty-two bytes, for tests';
const ORIGINAL = { width: 64, height: 48 };

/** A file-system store that counts reads of originals' files (what a thumbnail decodes). */
class CountingStore extends FileSystemStore {
  originalReads = 0;
  override localPath(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    if (width === ORIGINAL.width && height === ORIGINAL.height) this.originalReads += 1;
    return super.localPath(objectType, objectId, width, height, mimetype);
  }
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe.each(databaseKinds())('variantRouter on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let dir: { path: string; remove: () => Promise<void> };
  let store: CountingStore;
  let userId: number;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());
  afterEach(async () => {
    vi.restoreAllMocks();
    await dir.remove();
  });
  beforeEach(async () => {
    await db.reset();
    dir = await makeTempDir('variant-router');
    store = new CountingStore({ path: dir.path, baseUrl: 'http://x.test/' });
    const user = await models.User.create();
    userId = user.id;
    const { bytes } = await jpeg(ORIGINAL.width, ORIGINAL.height);
    await user.picture.fromBlob(bytes, { store });
    store.originalReads = 0;
  });

  function appWith(options: Partial<VariantRouterOptions> = {}): Express {
    const app = express();
    app.use(
      '/variants',
      variantRouter({
        secret: SECRET,
        allow: [{ width: 32 }, { height: 12 }, { width: 16, formats: ['webp'] }],
        models: [models.UserPicture],
        store,
        ...options,
      }),
    );
    return app;
  }

  async function urlOf(size: { width: number } | { height: number }, format = 'jpeg' as const) {
    const user = await models.User.findByPk(userId);
    return user!.picture.variantUrl({ ...size, format, secret: SECRET, mountPath: '/variants' });
  }

  async function thumbnails() {
    return (await models.UserPicture.findAll({ where: { original: false } })).map(
      ({ width, height, mimetype }) => ({ width, height, mimetype }),
    );
  }

  it('makes the size on the first request and redirects to the stored file', async () => {
    const url = await urlOf({ width: 32 });
    expect(url).toMatch(/^\/variants\/[\w-]{43}\/user-picture\/\d+\/32x\.jpeg$/);
    const res = await request(appWith()).get(url);
    expect(res.status).toBe(302);
    expect(await thumbnails()).toEqual([{ width: 32, height: 24, mimetype: 'image/jpeg' }]);
    const user = await models.User.findByPk(userId);
    const thumbnail = await user!.picture.findThumbnail({ width: 32 }, { store });
    expect(res.headers.location).toBe(thumbnail.locate({ store }));
    expect(store.originalReads).toBe(1);
    // Then it is an ordinary row of the set: found, not made again.
    const again = await request(appWith()).get(url);
    expect(again.status).toBe(302);
    expect(again.headers.location).toBe(res.headers.location);
    expect(store.originalReads).toBe(1);
    expect(await user!.picture.count()).toBe(2);
  });

  it("serves the file itself with respond: 'serve'", async () => {
    const res = await request(appWith({ respond: 'serve' }))
      .get(await urlOf({ height: 12 }))
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => callback(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(await sharp(res.body as Buffer).metadata()).toMatchObject({
      format: 'jpeg',
      width: 16,
      height: 12,
    });
  });

  it('makes a format the URL names, when allowed for that size', async () => {
    const res = await request(appWith()).get(await urlOf({ width: 16 }, 'webp' as 'jpeg'));
    expect(res.status).toBe(302);
    expect(await thumbnails()).toEqual([{ width: 16, height: 12, mimetype: 'image/webp' }]);
    const jpegOfIt = await request(appWith()).get(await urlOf({ width: 16 }));
    expect(jpegOfIt.status).toBe(404);
    expect(jpegOfIt.body).toMatchObject({ error: { code: 'E_VARIANT_NOT_ALLOWED' } });
  });

  it('refuses a forged, cut or moved signature with 403 and reads nothing', async () => {
    const url = await urlOf({ width: 32 });
    const [, mount, signature, ...rest] = url.split('/');
    const subject = rest.join('/');
    const flipped = `${signature!.slice(0, -1)}${signature!.endsWith('A') ? 'B' : 'A'}`;
    const other = await urlOf({ height: 12 });
    const queries = vi.spyOn(db.sequelize, 'query');
    const cases = [
      `/${mount}/${flipped}/${subject}`,
      `/${mount}/${signature!.slice(0, 20)}/${subject}`,
      `/${mount}/${signature}/${subject.replace('32x', '33x')}`,
      `/${mount}/${signature}/${subject.replace(`/${userId}/`, `/${userId + 1}/`)}`,
      `/${mount}/${other.split('/')[2]}/${subject}`,
      `/${mount}/${'A'.repeat(43)}/${subject}`,
    ];
    for (const path of cases) {
      const res = await request(appWith()).get(path);
      expect([path, res.status, (res.body as { error?: { code?: string } }).error?.code]).toEqual([
        path,
        403,
        'E_VARIANT_SIGNATURE',
      ]);
    }
    expect(queries).not.toHaveBeenCalled();
    expect(await thumbnails()).toEqual([]);
    expect(store.originalReads).toBe(0);
  });

  it('answers 404 for what is no variant path at all', async () => {
    for (const path of ['/variants/', '/variants/abc', '/variants/x/y/z', '/variants/a/b/c/d/e']) {
      const res = await request(appWith()).get(path);
      expect([path, res.status]).toEqual([path, 404]);
    }
  });

  it('answers a signed size outside allow 404 without reading the database or decoding', async () => {
    const urls = [];
    for (const size of [{ width: 33 }, { height: 24 }, { width: 16 }]) urls.push(await urlOf(size));
    const queries = vi.spyOn(db.sequelize, 'query');
    for (const url of urls) {
      const res = await request(appWith()).get(url);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: 'E_VARIANT_NOT_ALLOWED' } });
    }
    expect(queries).not.toHaveBeenCalled();
    expect(store.originalReads).toBe(0);
    expect(await thumbnails()).toEqual([]);
  });

  it('asks an allow function, and decodes nothing when it says no', async () => {
    const asked: unknown[] = [];
    const app = appWith({
      allow: (variant) => {
        asked.push(variant);
        return variant.width === 20;
      },
    });
    expect((await request(app).get(await urlOf({ width: 21 }))).status).toBe(404);
    expect(store.originalReads).toBe(0);
    expect((await request(app).get(await urlOf({ width: 20 }))).status).toBe(302);
    expect(asked).toEqual([
      { type: 'user-picture', width: 21, format: 'jpeg' },
      { type: 'user-picture', width: 20, format: 'jpeg' },
    ]);
  });

  it('answers 404 E_NO_ORIGINAL for a set that has no image', async () => {
    const empty = await models.User.create();
    const url = empty.picture.variantUrl({
      width: 32,
      format: 'jpeg',
      secret: SECRET,
      mountPath: '/variants',
    });
    const res = await request(appWith()).get(url);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'E_NO_ORIGINAL' } });
  });

  // PostgreSQL's advisory lock, seen waiting in pg_locks; MySQL's and MariaDB's row of
  // imageattach_key_lock, seen waiting in innodb_trx. (SQLite's writers take turns in the
  // database itself: no lock of another process to wait on.)
  if (kind.name !== 'sqlite') {
    it("waits for another process's lock on the variant, then finds what it made", async () => {
      const url = await urlOf({ width: 32 });
      const subject = url.split('/').slice(3).join('/');
      // Another process, holding the variant's lock: its own connection and transaction.
      const holder = await db.sequelize.transaction();
      await lockNameForWrite(db.sequelize, holder, `variant\0${subject}`);
      const pending = request(appWith())
        .get(url)
        .then((res) => res);
      await someoneWaits();
      expect(await thumbnails()).toEqual([]);
      expect(store.originalReads).toBe(0);
      await holder.commit();
      const res = await pending;
      expect(res.status).toBe(302);
      expect(await thumbnails()).toEqual([{ width: 32, height: 24, mimetype: 'image/jpeg' }]);
    });
  }

  /** Resolves once some session of the server waits for a lock. */
  async function someoneWaits(): Promise<void> {
    const sql =
      kind.name === 'postgres'
        ? 'SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted'
        : "SELECT count(*) AS n FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'";
    await vi.waitFor(
      async () => {
        const [rows] = await db.sequelize.query(sql);
        expect(Number((rows as { n: number | string }[])[0]?.n)).toBeGreaterThan(0);
      },
      // InnoDB refreshes what innodb_trx shows only when it was not read for 0.1 s: polling
      // faster would show the same stale rows for ever.
      { timeout: 20_000, interval: kind.name === 'postgres' ? 50 : 250 },
    );
  }

  it('makes one row and one file for 50 concurrent first requests, through two routers', async () => {
    const url = await urlOf({ width: 32 });
    // Two routers share nothing in memory: only the database's lock keeps them apart.
    const apps = [appWith(), appWith()];
    expect(await filesUnder(dir.path)).toHaveLength(1);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => request(apps[i % 2]!).get(url)),
    );
    expect(new Set(responses.map((res) => res.status))).toEqual(new Set([302]));
    expect(new Set(responses.map((res) => res.headers.location)).size).toBe(1);
    expect(await thumbnails()).toEqual([{ width: 32, height: 24, mimetype: 'image/jpeg' }]);
    expect(await filesUnder(dir.path)).toHaveLength(2);
    expect(store.originalReads).toBe(1);
  });
});

describe('variantRouter options', () => {
  it('are validated once, naming the option', () => {
    const base = { secret: SECRET, allow: [{ width: 1 }], models: [] as never[] };
    const cases: [Partial<VariantRouterOptions>, string][] = [
      [{ secret: 'short' }, 'secret'],
      [{ allow: 'all' as never }, 'allow'],
      [{ allow: [{ width: 1, height: 2 }] }, 'allow[0]'],
      [{ allow: [{ width: 1, formats: ['bmp' as never] }] }, 'allow[0].formats'],
      [{}, 'models'],
    ];
    for (const [options, option] of cases) {
      const make = () => variantRouter({ ...base, ...options });
      expect(make).toThrow(InvalidOptionError);
      expect(make).toThrow(expect.objectContaining({ option }));
    }
  });
});
