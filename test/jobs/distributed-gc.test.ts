/**
 * `distributeGc`: gc as one job per object type plus one for the other files, run by workers
 * (in this process here), finds what one `gc` over the whole store finds, summed from the
 * ranges' rows, and removes the orphans with `delete: true` (PostgreSQL, when DATABASE_URL is
 * set).
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemStore, gc, InvalidOptionError } from '../../src/index.js';
import { distributeGc, imageJobs, type ImageJobs } from '../../src/jobs.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineMigrationModels, seedCovers } from '../migration/models.js';
import { testBoss } from './boss-fixture.js';

const postgres = databaseKinds().filter((kind) => kind.name === 'postgres');

describe.runIf(postgres.length > 0)('distributeGc', () => {
  let db: TestDatabase;
  let boss: PgBoss;
  let jobs: ImageJobs;
  let dir: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;

  beforeAll(async () => {
    db = await postgres[0]!.open();
    const models = defineMigrationModels(db.sequelize);
    await db.sequelize.sync();
    dir = await makeTempDir('distributed-gc');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://img/' });
    await seedCovers(models, store);
    // Two orphans (one of a model's type, one of no model's) and one row without its file.
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
    jobs = imageJobs({ boss, sequelize: db.sequelize, store, retryDelay: 0 });
  });
  afterAll(async () => {
    await jobs?.stop();
    await boss?.stop({ graceful: false });
    await db?.close();
    await dir?.remove();
  });

  it('validates its options, naming them', async () => {
    await expect(distributeGc(jobs, { delete: 'yes' as never })).rejects.toMatchObject({
      option: 'delete',
    });
    await expect(distributeGc(jobs, { gracePeriod: -1 })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    await expect(
      gc({ store, models: db.sequelize, keySpace: { objectType: '' } }),
    ).rejects.toMatchObject({ option: 'keySpace' });
  });

  it('finds what one gc finds, per object type, and removes the orphans', async () => {
    const whole = await gc({ store, models: db.sequelize, gracePeriod: 0 });
    expect(whole.counts).toMatchObject({ orphans: 2, missing: 1 });

    const run = await distributeGc(jobs, { gracePeriod: 0, delete: true });
    await jobs.work({ concurrency: 2, pollIntervalMs: 50 });
    const report = await run.wait({ intervalMs: 100 });
    expect(report).toMatchObject({
      state: 'finished',
      // something-cover, samething-cover, and every other file.
      ranges: 3,
      rangesDone: 3,
      rows: whole.rows,
      files: whole.files,
      counts: { orphans: 2, missing: 1, unknown: 0, deleted: 2, deleteFailures: 0 },
    });
    for (const orphan of whole.orphans) {
      await expect(stat(join(dir.path, orphan.name))).rejects.toMatchObject({ code: 'ENOENT' });
    }
    const after = await gc({ store, models: db.sequelize, gracePeriod: 0 });
    expect(after.counts).toMatchObject({ orphans: 0, missing: 1 });
    await rm(join(dir.path, 'ghost'), { recursive: true, force: true });
  });
});
