/**
 * The write transaction of an attached upload: the original and its thumbnails in one
 * transaction with no savepoint (any failure rolls all of it back, so a savepoint would undo
 * nothing more and costs a statement per call), and a failure part-way still leaves nothing:
 * no row, no file, the staged file gone. `syncAheadOfMove` (the staged file made durable while
 * it is decoded) never fails an upload.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express from 'express';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { attachImage, FileSystemStore, uploadImage } from '../../src/index.js';
import { syncAheadOfMove } from '../../src/stores/fs.js';
import { defineModels, type Models } from '../models/models.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { FaultStore } from '../support/fault-store.js';
import { makeTempDir } from '../support/temp-dir.js';
import { listDir } from './upload-fixtures.js';

const photo = () =>
  sharp({ create: { width: 400, height: 300, channels: 3, background: '#468' } })
    .jpeg()
    .toBuffer();

/** Every file (not folder) under `path`, relative. */
async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe.each(databaseKinds())('the transaction of an attached upload on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let storeDir: Awaited<ReturnType<typeof makeTempDir>>;
  let statements: string[] = [];

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
    // Every statement this instance sends, in order.
    (db.sequelize as unknown as { options: { logging: unknown } }).options.logging = (
      sql: string,
    ) => statements.push(sql);
  });
  afterAll(async () => {
    (db.sequelize as unknown as { options: { logging: unknown } }).options.logging = false;
    await db.close();
  });
  beforeEach(async () => {
    await db.sequelize.sync({ force: true });
    tmp = await makeTempDir('attach-tx-tmp');
    storeDir = await makeTempDir('attach-tx-store');
    statements = [];
  });
  afterEach(async () => {
    await tmp.remove();
    await storeDir.remove();
  });

  function app(store: FileSystemStore | FaultStore) {
    const server = express();
    server.post(
      '/users/:id/picture',
      uploadImage({ field: 'picture', tmpDir: tmp.path }),
      attachImage({
        to: async (req) => (await models.User.findByPk(req.params.id as string))?.picture,
        store,
        thumbnails: [{ width: 100 }, { width: 50 }],
      }),
      (_req, res) => res.json(res.locals.image),
    );
    return server;
  }

  it('writes the original and its thumbnails in one transaction, without savepoints', async () => {
    const store = new FileSystemStore({ path: storeDir.path, baseUrl: 'http://img/' });
    const user = await models.User.create();
    statements = [];
    const res = await request(app(store))
      .post(`/users/${user.id}/picture`)
      .attach('picture', await photo(), 'a.jpg');
    expect(res.status).toBe(200);
    expect((res.body as { thumbnails: unknown[] }).thumbnails).toHaveLength(2);
    expect(statements.filter((sql) => /\bSAVEPOINT\b/i.test(sql))).toEqual([]);
    const inserts = statements.filter((sql) => /INSERT INTO [`"]?user_picture/i.test(sql));
    expect(inserts).toHaveLength(3);
    const transactions = new Set(
      inserts.map((sql) => /Executing \(([^)]+)\)/.exec(sql)?.[1] ?? 'none'),
    );
    expect(transactions.size).toBe(1);
    // The set is read once (before the original replaces it); its thumbnails do not read it again.
    const [id] = [...transactions];
    const reads = statements.filter(
      (sql) => sql.includes(`(${id})`) && /SELECT .* FROM [`"]?user_picture/i.test(sql),
    );
    expect(reads).toHaveLength(1);
    expect(transactions.has('default')).toBe(false);
    expect(await models.UserPicture.count()).toBe(3);
  });

  it('rolls back the original with a thumbnail whose write fails, leaving no file', async () => {
    const inner = new FileSystemStore({ path: storeDir.path, baseUrl: 'http://img/' });
    // The original's write succeeds, the second thumbnail's fails.
    const store = new FaultStore(inner).fail({ operation: 'putFile', nth: 3 });
    const user = await models.User.create();
    const res = await request(app(store))
      .post(`/users/${user.id}/picture`)
      .attach('picture', await photo(), 'a.jpg');
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(store.faults).toBe(1);
    expect(await models.UserPicture.count()).toBe(0);
    expect(await filesUnder(storeDir.path)).toEqual([]);
    await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
  });
});

describe('syncAheadOfMove', () => {
  it('leaves the file as it is, and never rejects', async () => {
    const dir = await makeTempDir('sync-ahead');
    try {
      const store = new FileSystemStore({ path: dir.path, baseUrl: 'http://img/' });
      const unsynced = new FileSystemStore({
        path: dir.path,
        baseUrl: 'http://img/',
        fsync: false,
      });
      const path = join(dir.path, 'staged');
      await import('node:fs/promises').then((fs) => fs.writeFile(path, 'bytes'));
      await expect(syncAheadOfMove(store, path)).resolves.toBeUndefined();
      await expect(syncAheadOfMove(unsynced, path)).resolves.toBeUndefined();
      await expect(syncAheadOfMove(undefined, path)).resolves.toBeUndefined();
      await expect(syncAheadOfMove(store, join(dir.path, 'missing'))).resolves.toBeUndefined();
      expect(await readFile(path, 'utf8')).toBe('bytes');
    } finally {
      await dir.remove();
    }
  });
});
