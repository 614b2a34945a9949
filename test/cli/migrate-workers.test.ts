/**
 * `sequelize-imageattach migrate --workers` run as a child process against PostgreSQL, with a
 * worker in this test's process: the CLI sends the ranges, follows them to the end and prints
 * the summary; a second start of a running migration fails with its code (PostgreSQL, when
 * DATABASE_URL is set).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemStore, migrate } from '../../src/index.js';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { testBoss, urlOf } from '../jobs/boss-fixture.js';
import { defineMigrationModels, seedCovers } from '../migration/models.js';
import { cli } from './run-cli.js';

const MODELS = 'test/fixtures/migration-app/models.ts';
const postgres = databaseKinds().filter((kind) => kind.name === 'postgres');

/** Every file under `dir`, relative path → bytes. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path));
  }
  return files;
}

describe.runIf(postgres.length > 0)('sequelize-imageattach migrate --workers', () => {
  let db: TestDatabase;
  let boss: PgBoss;
  let jobs: ImageJobs;
  let temp: { path: string; remove: () => Promise<void> };
  let sourceDir: string;
  let from: string;
  let base: string[];

  beforeAll(async () => {
    db = await postgres[0]!.open();
    const models = defineMigrationModels(db.sequelize);
    await db.sequelize.sync();
    temp = await makeTempDir('cli-workers');
    sourceDir = join(temp.path, 'source');
    from = `${pathToFileURL(sourceDir).href}?baseUrl=http://old.example/`;
    await seedCovers(models, new FileSystemStore({ path: sourceDir, baseUrl: 'http://src/' }));
    boss = testBoss(db.sequelize);
    jobs = imageJobs({
      boss,
      sequelize: db.sequelize,
      store: new FileSystemStore({ path: sourceDir, baseUrl: 'http://src/' }),
    });
    base = ['migrate', '--workers', '--models', MODELS, '--db', urlOf(db.sequelize)];
  });
  afterAll(async () => {
    await jobs?.stop();
    await boss?.stop({ graceful: false });
    await db?.close();
    await temp?.remove();
  });

  it('refuses a second start of a migration that runs, with its code', async () => {
    const to = `${pathToFileURL(join(temp.path, 'held')).href}?baseUrl=http://new.example/`;
    // Started here with no worker running: it stays running.
    const source = new FileSystemStore({ path: sourceDir, baseUrl: 'http://old.example/' });
    const held = new FileSystemStore({ path: join(temp.path, 'held'), baseUrl: 'http://x/' });
    const running = await migrate(db.sequelize, source, held).distribute(jobs, { from, to });
    try {
      const run = await cli([...base, '--from', from, '--to', to]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('(E_MIGRATION_RUNNING)');
    } finally {
      await running.cancel();
    }
  });

  it('sends the ranges to the workers, follows them and prints the summary', async () => {
    const destDir = join(temp.path, 'dest');
    const to = `${pathToFileURL(destDir).href}?baseUrl=http://new.example/`;
    await jobs.work({ concurrency: 2, pollIntervalMs: 50 });
    const run = await cli([...base, '--from', from, '--to', to, '--verify', '--range-size', '3']);
    expect(run.stderr).toMatch(/\(read only; the run recorded in imageattach_migration\)\.\n/);
    expect(run.stderr).toMatch(/10 image\(s\) in 4 range\(s\), sent to the workers/);
    expect(run.stderr).toMatch(/workers alive: [1-9]/);
    expect(run.stdout).toMatch(/Migration finished: 10 migrated, 0 skipped, 0 failed, across 4/);
    expect(run.code).toBe(0);
    const source = await tree(sourceDir);
    expect(source.size).toBe(10);
    expect(await tree(destDir)).toEqual(source);
  });
});
