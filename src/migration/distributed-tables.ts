/**
 * The tables of a distributed migration, the library's own, created when first needed:
 * `imageattach_migration`, one row per migration, whose `running_key` (a digest of source and
 * destination, NULL once it ended) is unique, so that two admins cannot run one migration twice,
 * whichever process they start it from; and `imageattach_migration_range`, one row per key
 * range, holding what the worker that ran it last counted. The rows outlive the process that
 * started the migration: progress is read from them, never from a process's memory.
 */
import { createHash } from 'node:crypto';
import { DataTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize';

export const MIGRATION_TABLE = 'imageattach_migration';
export const MIGRATION_RANGE_TABLE = 'imageattach_migration_range';

export type MigrationState = 'running' | 'finished' | 'cancelled' | 'abandoned';

export interface MigrationRow {
  id: string;
  source: string;
  destination: string;
  /** sha256(source NUL destination) while running, NULL after: unique. */
  runningKey: string | null;
  state: MigrationState;
  /** The copy options, as JSON. */
  options: string;
  total: number;
  ranges: number;
  startedAt: Date;
  /** Moved on by every worker as it works, and by the starter while it waits. */
  heartbeatAt: Date;
  finishedAt: Date | null;
}

export type RangeState = 'pending' | 'running' | 'done';

export interface MigrationRangeRow {
  migrationId: string;
  rangeIndex: number;
  model: string;
  /** The primary key the range starts after (JSON array), or NULL from the first row. */
  after: string | null;
  /** The last primary key of the range (JSON array), or NULL to the end of the table. */
  upTo: string | null;
  state: RangeState;
  total: number;
  done: number;
  migrated: number;
  skipped: number;
  failed: number;
  bytes: number;
  /** `host:pid` of the worker that ran it last. */
  worker: string | null;
  /** The first failures' messages, as a JSON array. */
  errors: string | null;
  updatedAt: Date;
}

type Models = {
  migration: ModelStatic<Model<MigrationRow, MigrationRow>>;
  range: ModelStatic<Model<MigrationRangeRow, MigrationRangeRow>>;
};

/** The models of the two tables on `sequelize`, defined the first time they are asked for. */
export function migrationTables(sequelize: Sequelize): Models {
  if (sequelize.isDefined('ImageAttachMigration')) {
    return {
      migration: sequelize.model('ImageAttachMigration'),
      range: sequelize.model('ImageAttachMigrationRange'),
    };
  }
  const migration = sequelize.define<Model<MigrationRow, MigrationRow>>(
    'ImageAttachMigration',
    {
      id: { type: DataTypes.STRING(32), primaryKey: true },
      source: { type: DataTypes.STRING(1024), allowNull: false },
      destination: { type: DataTypes.STRING(1024), allowNull: false },
      runningKey: {
        type: DataTypes.STRING(64),
        allowNull: true,
        unique: true,
        field: 'running_key',
      },
      state: { type: DataTypes.STRING(16), allowNull: false },
      options: { type: DataTypes.TEXT, allowNull: false },
      total: { type: DataTypes.INTEGER, allowNull: false },
      ranges: { type: DataTypes.INTEGER, allowNull: false },
      startedAt: { type: DataTypes.DATE(6), allowNull: false, field: 'started_at' },
      heartbeatAt: { type: DataTypes.DATE(6), allowNull: false, field: 'heartbeat_at' },
      finishedAt: { type: DataTypes.DATE(6), allowNull: true, field: 'finished_at' },
    },
    { tableName: MIGRATION_TABLE, timestamps: false },
  );
  const range = sequelize.define<Model<MigrationRangeRow, MigrationRangeRow>>(
    'ImageAttachMigrationRange',
    {
      migrationId: { type: DataTypes.STRING(32), primaryKey: true, field: 'migration_id' },
      rangeIndex: { type: DataTypes.INTEGER, primaryKey: true, field: 'range_index' },
      model: { type: DataTypes.STRING(255), allowNull: false },
      after: { type: DataTypes.TEXT, allowNull: true },
      upTo: { type: DataTypes.TEXT, allowNull: true, field: 'up_to' },
      state: { type: DataTypes.STRING(16), allowNull: false },
      total: { type: DataTypes.INTEGER, allowNull: false },
      done: { type: DataTypes.INTEGER, allowNull: false },
      migrated: { type: DataTypes.INTEGER, allowNull: false },
      skipped: { type: DataTypes.INTEGER, allowNull: false },
      failed: { type: DataTypes.INTEGER, allowNull: false },
      bytes: { type: DataTypes.BIGINT, allowNull: false },
      worker: { type: DataTypes.STRING(255), allowNull: true },
      errors: { type: DataTypes.TEXT, allowNull: true },
      updatedAt: { type: DataTypes.DATE(6), allowNull: false, field: 'updated_at' },
    },
    { tableName: MIGRATION_RANGE_TABLE, timestamps: false },
  );
  return { migration, range };
}

const created = new WeakSet<Sequelize>();

/** Creates the tables when missing (once per process and Sequelize). */
export async function ensureMigrationTables(sequelize: Sequelize): Promise<Models> {
  const tables = migrationTables(sequelize);
  if (!created.has(sequelize)) {
    await tables.migration.sync();
    await tables.range.sync();
    created.add(sequelize);
  }
  return tables;
}

/** What makes two migrations the same: their source and destination. */
export function runningKeyOf(source: string, destination: string): string {
  return createHash('sha256').update(`${source}\0${destination}`).digest('hex');
}
