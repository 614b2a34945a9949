/**
 * `distributeGc` over id ranges: past `rangeSize` rows a type is split by the leading digits
 * of its ids, and the summed report equals one whole `gc`'s, with ids negative, zero, short
 * and long, ids computed in JavaScript, rows without files and files without rows spread over
 * the ranges; on PostgreSQL with pg-boss workers, and in-process on SQLite (with a
 * file-system store, and with an S3 store, which lists each range by its prefix). On PostgreSQL,
 * one run at a time per store: a second start is refused while the first runs, and a run
 * whose heartbeat went stale is taken over.
 */
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemStore, gc, GcRunningError, type Store } from '../../src/index.js';
import { distributeGc, imageJobs, type ImageJobs } from '../../src/jobs.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { s3StoreFixture } from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels } from '../models/models.js';
import { testBoss } from './boss-fixture.js';
import { seedSpreadIds, SPREAD_COUNTS } from './gc-spread-fixture.js';

const modes = databaseKinds().flatMap((kind) => [
  ...(kind.name === 'postgres'
    ? [{ name: 'postgres, pg-boss, file system', kind, s3: false }]
    : []),
  ...(kind.name === 'sqlite'
    ? [
        { name: 'sqlite, in-process, file system', kind, s3: false },
        { name: 'sqlite, in-process, S3', kind, s3: true },
      ]
    : []),
]);

describe.each(modes)('distributeGc over id ranges ($name)', ({ kind, s3 }) => {
  let db: TestDatabase;
  let boss: PgBoss | undefined;
  let jobs: ImageJobs;
  let cleanup: () => Promise<void>;
  let store: Store;

  beforeAll(async () => {
    db = await kind.open();
    const models = defineModels(db.sequelize);
    await db.reset();
    if (s3) {
      ({ store, cleanup } = await s3StoreFixture({ prefix: 'ranges' }));
    } else {
      const dir = await makeTempDir('gc-ranges');
      store = new FileSystemStore({ path: dir.path, baseUrl: 'http://img/' });
      cleanup = dir.remove;
    }
    await seedSpreadIds(models, store);
    boss = kind.name === 'postgres' ? testBoss(db.sequelize) : undefined;
    jobs = imageJobs({ boss, sequelize: db.sequelize, store, retryDelay: 0, concurrency: 2 });
  });
  afterAll(async () => {
    await jobs?.stop();
    await boss?.stop({ graceful: false });
    await db?.close();
    await cleanup?.();
  });

  it('sums to what one whole gc finds, range by range', async () => {
    const whole = await gc({ store, models: db.sequelize, gracePeriod: 0 });
    expect(whole.counts).toMatchObject(SPREAD_COUNTS);

    const run = await distributeGc(jobs, { gracePeriod: 0, rangeSize: 2 });
    if (boss !== undefined) await jobs.work({ concurrency: 2, pollIntervalMs: 50 });
    const report = await run.wait({ intervalMs: 100 });
    expect(report).toMatchObject({
      state: 'finished',
      // 13 user pictures and 4 post photos make 7 and 2 parts: 11 ranges each (depth 1),
      // and the range of every other file.
      ranges: 23,
      rangesDone: 23,
      rows: whole.rows,
      files: whole.files,
      counts: whole.counts,
    });
  });

  // Only where workers run apart from the sender: in-process, a run ends as its commit does.
  if (kind.name !== 'postgres') return;
  it('refuses a second start while one runs, and takes over a stale one', async () => {
    await jobs.stop(); // no worker: the run stays running
    const stuck = imageJobs({ boss, sequelize: db.sequelize, store });
    const first = await distributeGc(stuck, { gracePeriod: 0 });
    const second = distributeGc(stuck, { gracePeriod: 0 });
    await expect(second).rejects.toBeInstanceOf(GcRunningError);
    await expect(second).rejects.toMatchObject({ code: 'E_GC_RUNNING', status: 409 });

    // Its starter and workers gone for longer than `staleAfter`: a new start replaces it.
    await db.sequelize.query(
      `UPDATE imageattach_gc SET heartbeat_at = now() - interval '1 hour' WHERE id = :id`,
      { replacements: { id: first.id } },
    );
    const next = await distributeGc(stuck, { gracePeriod: 0, staleAfter: 60_000 });
    expect((await first.status()).state).toBe('abandoned');

    // The abandoned run's jobs do nothing; the new run's make the report.
    jobs = imageJobs({ boss, sequelize: db.sequelize, store, retryDelay: 0 });
    await jobs.work({ concurrency: 2, pollIntervalMs: 50 });
    const report = await next.wait({ intervalMs: 100 });
    expect(report).toMatchObject({ state: 'finished', counts: SPREAD_COUNTS });
    const abandoned = await first.status();
    expect(abandoned).toMatchObject({ state: 'abandoned', rangesDone: 0 });
    await stuck.stop();
  });
});
