/**
 * A migration of 2,000 images shared by `sequelize-imageattach worker` processes: three at
 * first, one SIGKILLed in the middle of a range, one added midway. Every image ends in the
 * destination once, with the source's bytes; progress, summed from the ranges' rows, reaches
 * 100 %; a second start of the same migration is refused while it runs (PostgreSQL, when
 * DATABASE_URL is set).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FileSystemStore, migrate, type ListedFile } from '../../src/index.js';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';
import type { DistributedMigrationStatus } from '../../src/migration/distribute.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';
import { testBoss, urlOf } from './boss-fixture.js';

const IMAGES = 2000;
const postgres = databaseKinds().filter((kind) => kind.name === 'postgres');

interface Worker {
  child: ChildProcess;
  started: string[];
  /** Resolves once the worker has started a migrate-range job. */
  firstRange: Promise<void>;
}

async function listAll(store: FileSystemStore): Promise<ListedFile[]> {
  const files: ListedFile[] = [];
  for await (const file of store.listFiles()) files.push(file);
  return files;
}

describe.runIf(postgres.length > 0)('a migration on many workers', () => {
  let db: TestDatabase;
  let models: Models;
  let boss: PgBoss;
  let from: Awaited<ReturnType<typeof makeTempDir>>;
  let to: Awaited<ReturnType<typeof makeTempDir>>;
  let source: FileSystemStore;
  let destination: FileSystemStore;
  let jobs: ImageJobs;
  const workers: Worker[] = [];

  beforeAll(async () => {
    db = await postgres[0]!.open();
    models = defineModels(db.sequelize);
    await db.reset();
    from = await makeTempDir('imageattach-migrate-from');
    to = await makeTempDir('imageattach-migrate-to');
    source = new FileSystemStore({ path: from.path, baseUrl: 'http://img.example/' });
    destination = new FileSystemStore({ path: to.path, baseUrl: 'http://img.example/' });
    // Maintenance every second here, so a killed worker's range, expired after a few
    // seconds, comes back quickly.
    boss = testBoss(db.sequelize, { supervise: true, maintenanceIntervalSeconds: 1 });
    await boss.start();
    jobs = imageJobs({
      boss,
      sequelize: db.sequelize,
      store: destination,
      expireInSeconds: 4,
      retryDelay: 0,
    });
    await jobs.ready();

    const users = await models.User.bulkCreate(Array.from({ length: IMAGES }, () => ({})));
    await models.UserPicture.bulkCreate(
      users.map((user) => ({
        userId: user.id,
        width: 3,
        height: 2,
        mimetype: 'image/png',
        original: true,
        createdAt: new Date(),
      })),
      { hooks: false },
    );
    for (const user of users) {
      const bytes = Buffer.from(`picture of user ${user.id}`);
      await source.putFile(bytes, 'user-picture', user.id, 3, 2, 'image/png', false);
    }
  });
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await jobs?.stop();
    await boss?.stop({ graceful: false });
    await db?.close();
    await from?.remove();
    await to?.remove();
  });

  function startWorker(): Worker {
    const storeUrl = `${pathToFileURL(to.path).href}?baseUrl=http://img.example/`;
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'src/cli.ts', 'worker'],
        ...['--models', 'test/fixtures/jobs-app/models.ts', '--store', storeUrl],
        ...['--database', urlOf(db.sequelize), '--poll-interval', '50'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines = createInterface({ input: child.stdout });
    let ranged: () => void = () => undefined;
    const worker: Worker = {
      child,
      started: [],
      firstRange: new Promise((resolve) => (ranged = resolve)),
    };
    lines.on('line', (line) => {
      const [state, kind, id] = line.split(' ');
      if (state === 'started' && kind === 'migrate-range') {
        worker.started.push(id!);
        ranged();
      }
    });
    child.stderr.resume();
    workers.push(worker);
    return worker;
  }

  test('copies every image once, survives a killed worker, refuses a second start', async () => {
    const [killed] = [startWorker(), startWorker(), startWorker()];
    const storeName = (dir: string) => `${pathToFileURL(dir).href}?baseUrl=http://img.example/`;
    const names = { from: storeName(from.path), to: storeName(to.path) };
    const plan = migrate(db.sequelize, source, destination, { verify: 'checksum', concurrency: 2 });
    const migration = await plan.distribute(jobs, { ...names, rangeSize: 50 });

    // The same source and destination, from another plan: refused while the first runs.
    const again = migrate(db.sequelize, source, destination).distribute(jobs, names);
    await expect(again).rejects.toMatchObject({ code: 'E_MIGRATION_RUNNING', status: 409 });

    await killed.firstRange;
    killed.child.kill('SIGKILL');
    await once(killed.child, 'exit');
    const added = startWorker();

    const seen: DistributedMigrationStatus[] = [];
    const final = await migration.wait({ intervalMs: 200, onStatus: (s) => seen.push(s) });
    expect(final.state).toBe('finished');
    expect(final.percent).toBe(100);
    expect(final.total).toBe(IMAGES);
    expect(final.done).toBe(IMAGES);
    expect(final.migrated + final.skipped).toBe(IMAGES);
    expect(final.failed).toBe(0);
    expect(final.rangesDone).toBe(final.ranges);
    // 50 rows a range, and one open-ended last range per model (two models).
    expect(final.ranges).toBe(IMAGES / 50 + 2);
    expect(seen.some((status) => status.workersAlive >= 2)).toBe(true);
    expect(seen.some((status) => status.state === 'running' && status.done > 0)).toBe(true);
    // Progress only grows.
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.percent).toBeGreaterThanOrEqual(seen[i - 1]!.percent);
    }
    // The added worker took part.
    expect(added.started.length).toBeGreaterThan(0);

    // Every image once in the destination, with the source's bytes.
    const copied = (await listAll(destination)).filter((file) => !file.temporary);
    expect(copied).toHaveLength(IMAGES);
    expect(new Set(copied.map((file) => file.name)).size).toBe(IMAGES);
    for (const file of copied) {
      const [a, b] = await Promise.all([
        readFile(join(from.path, file.name)),
        readFile(join(to.path, file.name)),
      ]);
      expect(b.equals(a)).toBe(true);
    }

    // Finished: the same migration may start again (and finds everything there).
    const second = await migrate(db.sequelize, source, destination).distribute(jobs, {
      ...names,
      rangeSize: 500,
    });
    const again2 = await second.wait({ intervalMs: 200 });
    expect(again2).toMatchObject({ state: 'finished', done: IMAGES, skipped: IMAGES, failed: 0 });
  }, 600_000);
});
