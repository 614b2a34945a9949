/**
 * Two processes on one SQLite file: the app attaching images while `sequelize-imageattach gc
 * --delete` runs next to it in a child process, in the default rollback journal and in WAL
 * mode. Neither fails (both wait for the other's lock within the busy timeout), gc removes the
 * old orphan only, and the store matches the rows afterwards. Then another process holding
 * the write lock for longer than the busy timeout: a clear `E_DATABASE_BUSY`, nothing stored.
 */
import { execFile } from 'node:child_process';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Sequelize } from 'sequelize';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  attachImage,
  configureSqlite,
  FileSystemStore,
  imageTransaction,
  uploadImage,
  type AttachedImage,
} from '../../src/index.js';
import { jpeg } from '../fixtures/samples.js';
import { defineMigrationModels, type MigrationModels } from '../migration/models.js';
import { checkInvariants } from '../support/invariants.js';
import { holdWriteLock } from '../support/sqlite-lock.js';
import { makeTempDir } from '../support/temp-dir.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MODELS = 'test/fixtures/migration-app/models.ts';
const ORPHAN = 'something-cover/999/0/999.10x10.png';

/** Sequelize reads `options.logging` at every query; the typings do not declare it. */
const optionsOf = (sequelize: Sequelize) =>
  (sequelize as unknown as { options: { logging: ((message: string) => void) | false } }).options;

function gcInChild(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'gc', ...args],
      { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe.each(['delete', 'wal'])('SQLite in %s journal mode, two processes', (journal) => {
  let dir: { path: string; remove: () => Promise<void> };
  let file: string;
  let sequelize: Sequelize;
  let models: MigrationModels;
  let store: FileSystemStore;

  beforeEach(async () => {
    dir = await makeTempDir('sqlite-processes');
    file = join(dir.path, 'app.sqlite');
    sequelize = new Sequelize({ dialect: 'sqlite', storage: file, logging: false });
    await sequelize.query(`PRAGMA journal_mode=${journal}`);
    models = defineMigrationModels(sequelize);
    await sequelize.sync();
    store = new FileSystemStore({ path: join(dir.path, 'store'), baseUrl: 'http://x/' });
  });
  afterEach(async () => {
    await sequelize.close();
    await dir.remove();
  });

  test('the app attaching and gc --delete in another process both succeed', async () => {
    const orphan = join(dir.path, 'store', ORPHAN);
    await mkdir(join(orphan, '..'), { recursive: true });
    await writeFile(orphan, 'not owned');
    const old = new Date(Date.now() - 2 * 86_400_000);
    await utimes(orphan, old, old);

    let gcDone = false;
    const gc = gcInChild([
      '--store',
      `file://${join(dir.path, 'store')}?baseUrl=http://x/`,
      '--models',
      MODELS,
      '--db',
      `sqlite:${file}`,
      '--delete',
    ]).finally(() => {
      gcDone = true;
    });
    // Waves of attaches until gc is over (and a few after it started, at least).
    const results: PromiseSettledResult<unknown>[] = [];
    for (let wave = 0; !gcDone || wave < 3; wave += 1) {
      const samples = await Promise.all(
        Array.from({ length: 4 }, (_, i) => jpeg(30 + i, 20, wave % 256)),
      );
      results.push(
        ...(await Promise.allSettled(
          samples.map(async (sample) => {
            const parent = await models.Something.create();
            return imageTransaction(sequelize, async (transaction) => {
              await parent.cover.fromBlob(sample.bytes, { store, transaction });
              return parent.cover.generateThumbnail({ width: 10 }, { store, transaction });
            });
          }),
        )),
      );
    }
    const run = await gc;
    // gc names what it will touch first (on stderr), and says nothing else there: no error.
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Removing orphans from the folder .*store, against the image rows/),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 orphan file(s), 1 removed');
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    const { problems, state } = await checkInvariants(store, sequelize);
    expect(problems).toEqual([]);
    expect(state.orphans).toEqual([]);
    expect(state.rows.size).toBe(results.length * 2);
  });

  test('a lock held by another process for less than the busy timeout is waited for', async () => {
    const parent = await models.Something.create();
    const { bytes } = await jpeg(30, 20);
    const lock = await holdWriteLock(file);
    const sent: string[] = [];
    optionsOf(sequelize).logging = (message: string) => sent.push(message);
    const attach = parent.cover.fromBlob(bytes, { store });
    // The attach's BEGIN IMMEDIATE waits inside SQLite for the lock; then the other process
    // lets go.
    await vi.waitFor(() => expect(sent.some((sql) => /BEGIN IMMEDIATE/.test(sql))).toBe(true));
    await lock.release();
    await expect(attach).resolves.toMatchObject({ width: 30 });
    optionsOf(sequelize).logging = false;
  });

  test('a lock held for longer than the busy timeout fails with E_DATABASE_BUSY, storing nothing', async () => {
    configureSqlite(sequelize, { busyTimeout: 200 });
    const parent = await models.Something.create();
    const { bytes } = await jpeg(30, 20);
    const lock = await holdWriteLock(file);
    try {
      await expect(parent.cover.fromBlob(bytes, { store })).rejects.toMatchObject({
        code: 'E_DATABASE_BUSY',
        status: 503,
      });
    } finally {
      await lock.release();
    }
    const { problems, state } = await checkInvariants(store, sequelize);
    expect(problems).toEqual([]);
    expect(state.rows.size).toBe(0);
    expect(state.files.size).toBe(0);
  });

  test('attachImage answers 503 E_DATABASE_BUSY past the busy timeout, then attaches', async () => {
    configureSqlite(sequelize, { busyTimeout: 200 });
    const parent = await models.Something.create();
    const tmp = await makeTempDir('sqlite-processes-upload');
    const app = express();
    app.post(
      '/covers/:id',
      uploadImage({ field: 'cover', tmpDir: tmp.path }),
      attachImage({
        to: async (req) => (await models.Something.findByPk(String(req.params.id)))?.cover,
        store,
        thumbnails: [{ width: 10 }],
      }),
      (_req, res) => {
        res.status(201).json({ url: (res.locals.image as AttachedImage).url });
      },
    );
    const { bytes } = await jpeg(30, 20);
    const post = () =>
      request(app).post(`/covers/${parent.id}`).attach('cover', Buffer.from(bytes), 'cover.jpg');
    try {
      const lock = await holdWriteLock(file);
      try {
        const refused = await post();
        expect(refused.status).toBe(503);
        expect((refused.body as { error: { code: string } }).error.code).toBe('E_DATABASE_BUSY');
      } finally {
        await lock.release();
      }
      expect((await checkInvariants(store, sequelize)).state.files.size).toBe(0);
      const accepted = await post();
      expect(accepted.status).toBe(201);
      const { problems, state } = await checkInvariants(store, sequelize);
      expect(problems).toEqual([]);
      expect(state.rows.size).toBe(2);
    } finally {
      await tmp.remove();
    }
  });
});
