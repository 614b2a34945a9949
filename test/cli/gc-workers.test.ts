/**
 * `sequelize-imageattach gc --workers` run as a child process against PostgreSQL, with a
 * worker in this test's process: the CLI sends the ranges (split by id past --range-size),
 * prints the progress and the summed report, removes the orphans with --delete and exits 1
 * for a missing file; a second gc of the store is refused while one runs; Ctrl-C stops
 * following with 130 and leaves the gc to the workers (PostgreSQL, when DATABASE_URL is set).
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemStore } from '../../src/index.js';
import { distributeGc, imageJobs, type ImageJobs } from '../../src/jobs.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { testBoss, urlOf } from '../jobs/boss-fixture.js';
import { defineMigrationModels, seedCovers } from '../migration/models.js';
import { cli, ROOT } from './run-cli.js';

const MODELS = 'test/fixtures/migration-app/models.ts';
const postgres = databaseKinds().filter((kind) => kind.name === 'postgres');

describe.runIf(postgres.length > 0)('sequelize-imageattach gc --workers', () => {
  let db: TestDatabase;
  let boss: PgBoss;
  let temp: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;
  let base: string[];

  /** Ends whatever gc runs, as a stale one would be. */
  const abandonRuns = () =>
    db.sequelize.query(
      `UPDATE imageattach_gc SET state = 'abandoned', running_key = NULL WHERE state = 'running'`,
    );

  beforeAll(async () => {
    db = await postgres[0]!.open();
    const models = defineMigrationModels(db.sequelize);
    await db.sequelize.sync();
    temp = await makeTempDir('cli-gc-workers');
    store = new FileSystemStore({ path: temp.path, baseUrl: 'http://img/' });
    await seedCovers(models, store);
    // Two orphans (one of a model's type, one of none) and one row without its file.
    await store.putFile(Buffer.from('x'), 'something-cover', 999, 1, 1, 'image/png', false);
    await store.putFile(Buffer.from('y'), 'ghost', 7, 1, 1, 'image/png', false);
    const cover = await models.SamethingCover.findOne({ where: { original: true } });
    await store.deleteFile(
      cover!.objectType,
      cover!.objectId,
      cover!.width,
      cover!.height,
      cover!.mimetype,
    );
    boss = testBoss(db.sequelize);
    const url = `${pathToFileURL(temp.path).href}?baseUrl=http://img/`;
    base = ['gc', '--workers', '--store', url, '--models', MODELS, '--db', urlOf(db.sequelize)];
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
    await db?.close();
    await temp?.remove();
  });

  it('refuses a second gc of the store while one runs, with its code', async () => {
    const idle = imageJobs({ boss, sequelize: db.sequelize, store });
    await distributeGc(idle, { gracePeriod: 0 }); // no worker: it stays running
    try {
      const run = await cli(base);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('(E_GC_RUNNING)');
    } finally {
      await idle.stop();
      await abandonRuns();
    }
  });

  it('stops following on Ctrl-C with 130, the gc left to the workers', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...base], {
      cwd: ROOT,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let stderr = '';
    const sent = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('sent to the workers')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await sent;
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('it goes on in the workers');
    const [[row]] = (await db.sequelize.query(
      `SELECT count(*)::int AS running FROM imageattach_gc WHERE state = 'running'`,
    )) as [Array<{ running: number }>, unknown];
    expect(row!.running).toBe(1);
    await abandonRuns();
  });

  it('sends the ranges, prints the progress and the summed report, removes orphans', async () => {
    let jobs: ImageJobs | undefined;
    try {
      jobs = imageJobs({ boss, sequelize: db.sequelize, store, retryDelay: 0 });
      await jobs.work({ concurrency: 2, pollIntervalMs: 50 });
      const run = await cli([...base, '--grace', '0', '--delete', '--range-size', '2']);
      // Five rows of each cover type: 11 ranges by leading digit each, and every other file.
      expect(run.stderr).toContain(
        '(read only; stale rows of imageattach_staged_file removed; the run recorded in ' +
          'imageattach_gc), on the workers.\n',
      );
      expect(run.stderr).toMatch(/23 range\(s\), sent to the workers/);
      expect(run.stderr).toMatch(/ranges done 23\/23, workers alive [1-9]/);
      expect(run.stdout).toMatch(
        /gc finished: checked 10 row\(s\) and 11 file\(s\) in 23 range\(s\); 2 orphan file\(s\), 2 removed;/,
      );
      expect(run.stdout).toMatch(/1 row\(s\) whose file is missing/);
      expect(run.code).toBe(1);
      for (const name of ['something-cover/999/0/999.1x1.png', 'ghost/7/0/7.1x1.png']) {
        await expect(stat(join(temp.path, name))).rejects.toMatchObject({ code: 'ENOENT' });
      }
    } finally {
      await jobs?.stop();
    }
  });

  it('takes --range-size only with --workers', async () => {
    const run = await cli(base.filter((arg) => arg !== '--workers').concat('--range-size', '5'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--range-size is for --workers');
  });
});
