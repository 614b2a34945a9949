/**
 * `plan.distribute()` where pg-boss cannot run (SQLite): the ranges run in this process after
 * the commit that sends them, through the same job and tables; its options are validated once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FileSystemStore, migrate, type ListedFile } from '../../src/index.js';
import { imageJobs, migrationStores, type ImageJobs } from '../../src/jobs.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';

const IMAGES = 30;
const sqlite = databaseKinds().find((kind) => kind.name === 'sqlite')!;

describe('distribute in-process (SQLite)', () => {
  let db: TestDatabase;
  let models: Models;
  let from: Awaited<ReturnType<typeof makeTempDir>>;
  let to: Awaited<ReturnType<typeof makeTempDir>>;
  let source: FileSystemStore;
  let destination: FileSystemStore;
  let jobs: ImageJobs;

  beforeAll(async () => {
    db = await sqlite.open();
    models = defineModels(db.sequelize);
    await db.reset();
    from = await makeTempDir('distribute-from');
    to = await makeTempDir('distribute-to');
    source = new FileSystemStore({ path: from.path, baseUrl: 'http://img.example/' });
    destination = new FileSystemStore({ path: to.path, baseUrl: 'http://img.example/' });
    jobs = imageJobs({ sequelize: db.sequelize, store: destination, concurrency: 2 });
    migrationStores(db.sequelize, { old: source, new: destination });
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
      await source.putFile(
        Buffer.from(`user ${user.id}`),
        'user-picture',
        user.id,
        3,
        2,
        'image/png',
        false,
      );
    }
  });
  afterAll(async () => {
    await jobs?.stop();
    await db?.close();
    await from?.remove();
    await to?.remove();
  });

  test('copies every range and ends the migration', async () => {
    const migration = await migrate(db.sequelize, source, destination, {
      verify: 'checksum',
    }).distribute(jobs, { from: 'old', to: 'new', rangeSize: 7 });
    const final = await migration.wait({ intervalMs: 50 });
    expect(final).toMatchObject({
      state: 'finished',
      total: IMAGES,
      done: IMAGES,
      migrated: IMAGES,
      skipped: 0,
      failed: 0,
      percent: 100,
    });
    // ceil(30 / 7) ranges of UserPicture, and PostPhoto's one (empty) range.
    expect(final.ranges).toBe(Math.ceil(IMAGES / 7) + 1);
    expect(final.rangesDone).toBe(final.ranges);
    const copied: ListedFile[] = [];
    for await (const file of destination.listFiles()) copied.push(file);
    expect(copied).toHaveLength(IMAGES);

    // Ended: the same migration may run again, and skips everything.
    const again = await migrate(db.sequelize, source, destination).distribute(jobs, {
      from: 'old',
      to: 'new',
    });
    expect(await again.wait({ intervalMs: 50 })).toMatchObject({
      state: 'finished',
      skipped: IMAGES,
      migrated: 0,
    });
  });

  test.each([
    [{ from: '', to: 'new' }, 'from'],
    [{ from: 'old', to: 'old' }, 'to'],
    [{ from: 'old', to: 'new', rangeSize: 0 }, 'rangeSize'],
    [{ from: 'old', to: 'new', staleAfter: -1 }, 'staleAfter'],
  ])('refuses %j, naming %s', async (options, option) => {
    const plan = migrate(db.sequelize, source, destination);
    await expect(plan.distribute(jobs, options)).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      option,
    });
  });
});
