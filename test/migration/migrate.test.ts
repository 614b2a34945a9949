/**
 * The original's four migration tests (tests/migration_test.py), on real models and a real
 * database (SQLite, and PostgreSQL when DATABASE_URL is set), plus what `migrate` adds.
 */
import { DataTypes } from 'sequelize';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Image,
  imageAttributes,
  migrate,
  migrateClass,
  type MigrationPlan,
} from '../../src/index.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { MemoryStore } from '../support/memory-store.js';
import { defineMigrationModels, seedCovers, type MigrationModels } from './models.js';

/** `putFile key reproducible` lines of a store, sorted. */
function puts(store: MemoryStore, type?: string): string[] {
  return store.calls
    .filter(
      (call) =>
        call.startsWith('putFile ') && (type === undefined || call.startsWith(`putFile ${type}/`)),
    )
    .sort();
}

function filesOf(store: MemoryStore, type?: string): Map<string, Buffer> {
  return new Map(
    [...store.files].filter(([key]) => type === undefined || key.startsWith(`${type}/`)),
  );
}

async function drain(plan: MigrationPlan<Image>): Promise<number> {
  let count = 0;
  for await (const image of plan) {
    expect(image).toBeInstanceOf(Image);
    count += 1;
  }
  return count;
}

for (const kind of databaseKinds()) {
  describe(`migration on ${kind.name}`, () => {
    let db: TestDatabase;
    let models: MigrationModels;
    let source: MemoryStore;
    let destination: MemoryStore;

    beforeEach(async () => {
      db = await kind.open();
      models = defineMigrationModels(db.sequelize);
      await db.sequelize.sync();
      source = new MemoryStore('source');
      destination = new MemoryStore('destination');
      await seedCovers(models, source);
      // 2 + 3 thumbnails of each kind.
      expect(source.files.size).toBe(10);
    });
    afterEach(async () => {
      await db.close();
    });

    it('migrate_class execute: copies one model, only when executed', async () => {
      const plan = migrateClass(models.SomethingCover, source, destination);
      expect(destination.files.size).toBe(0);
      await plan.execute();
      expect(filesOf(destination)).toEqual(filesOf(source, 'something-cover'));
      expect(puts(destination)).toEqual(puts(source, 'something-cover'));
      expect(puts(destination).filter((call) => call.endsWith(' true'))).toHaveLength(3);
    });

    it('migrate_class iter: copies one model as it is iterated', async () => {
      const plan = migrateClass(models.SomethingCover, source, destination);
      expect(destination.files.size).toBe(0);
      expect(await drain(plan)).toBe(5);
      expect(filesOf(destination)).toEqual(filesOf(source, 'something-cover'));
      expect(puts(destination)).toEqual(puts(source, 'something-cover'));
    });

    it('migrate execute: copies every image model of the Sequelize instance', async () => {
      const plan = migrate(db.sequelize, source, destination);
      expect(await plan.count()).toBe(10);
      expect(destination.files.size).toBe(0);
      const report = await plan.execute();
      expect(report).toMatchObject({ total: 10, migrated: 10, failed: 0 });
      expect(filesOf(destination)).toEqual(filesOf(source));
      expect(puts(destination)).toEqual(puts(source));
    });

    it('migrate iter: copies every image model as it is iterated', async () => {
      const plan = migrate(db.sequelize, source, destination);
      expect(destination.files.size).toBe(0);
      expect(await drain(plan)).toBe(10);
      expect(filesOf(destination)).toEqual(filesOf(source));
      expect(puts(destination)).toEqual(puts(source));
    });

    it('pages through the rows with a small page size, missing none', async () => {
      const report = await migrate(db.sequelize, source, destination, { pageSize: 2 }).execute();
      expect(report.migrated).toBe(10);
      expect(filesOf(destination)).toEqual(filesOf(source));
      expect(puts(destination)).toEqual(puts(source));
    });

    it('copies a table two models share once, and writes no rows and deletes no source file', async () => {
      class CoverAgain extends Image {}
      CoverAgain.init(
        { somethingId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
        { sequelize: db.sequelize, tableName: 'something_cover', modelName: 'CoverAgain' },
      );
      CoverAgain.objectType = 'something-cover';
      const before = await models.SomethingCover.count();
      await migrate(db.sequelize, source, destination).execute();
      expect(puts(destination)).toHaveLength(10);
      expect(await models.SomethingCover.count()).toBe(before);
      expect(source.files.size).toBe(10);
      expect(source.calls.filter((call) => call.startsWith('deleteFile'))).toEqual([]);
    });

    it('refuses what is not a Sequelize instance or an image model', () => {
      expect(() => migrate({} as never, source, destination)).toThrow(TypeError);
      expect(() => migrateClass(models.Something as never, source, destination)).toThrow(TypeError);
      expect(() => migrate(db.sequelize, source, {} as never)).toThrow(TypeError);
    });
  });
}
