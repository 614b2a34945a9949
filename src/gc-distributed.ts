/**
 * `distributeGc(jobs, options)`: `gc` (and, first, `recoverStagedFiles`) as jobs over parts of
 * the key space, for stores too big for one process: one `gc-range` job per object type of the
 * image models (a store that honours `objectTypePrefix` lists only that type's files) and one
 * for every other file (files of no model, staged files, the journal). Like the distributed
 * migration, the jobs are sent in the transaction that inserts their rows
 * (`imageattach_gc_range`), each worker writes its range's counts there, and the report is
 * their sum, readable from any process.
 */
import { randomBytes } from 'node:crypto';
import { DataTypes, fn, col, literal, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import { InvalidOptionError } from './errors.js';
import { objectTypeOfModel, type GcCounts } from './gc.js';
import type { ImageJobs } from './jobs/image-jobs.js';
import { imageModelsOf } from './migration/migrate.js';

export interface DistributeGcOptions {
  /**
   * Milliseconds a file must have existed before it may be called an orphan (see `gc`).
   * @default 86400000 (one day)
   */
  gracePeriod?: number;
  /** Remove the orphans found (see `gc`). @default false (a dry run) */
  delete?: boolean;
  /**
   * Run `recoverStagedFiles` in the job of the other files, before its gc (as `gc` advises).
   * @default true
   */
  recover?: boolean;
}

/** The sum of a distributed gc's ranges. */
export interface DistributedGcStatus extends GcCounts {
  id: string;
  /** `'finished'` once every range is done. */
  state: 'running' | 'finished';
  ranges: number;
  rangesDone: number;
  rows: number;
  files: number;
  /** Staged files settled by `recoverStagedFiles` (recovered or removed). */
  recovered: number;
}

export interface GcRangeRow {
  runId: string;
  rangeIndex: number;
  /** The object type of the range, or null for every other file. */
  objectType: string | null;
  /** The types of the other ranges, as JSON, for the range of every other file. */
  otherThan: string | null;
  /** The run's options, as JSON. */
  options: string;
  state: 'pending' | 'done';
  rows: number;
  files: number;
  orphans: number;
  recent: number;
  staged: number;
  missing: number;
  unknown: number;
  deleted: number;
  deleteFailures: number;
  recovered: number;
  updatedAt: Date;
}

const COUNTERS = [
  'rows',
  'files',
  'orphans',
  'recent',
  'staged',
  'missing',
  'unknown',
  'deleted',
  'deleteFailures',
  'recovered',
] as const;

type RangeModel = ModelStatic<Model<GcRangeRow, GcRangeRow>>;
const created = new WeakSet<Sequelize>();

/** The table of the ranges, created when first needed. */
export async function gcRangeTable(sequelize: Sequelize): Promise<RangeModel> {
  if (!sequelize.isDefined('ImageAttachGcRange')) {
    // A fresh definition each: Sequelize writes the column's name into it.
    const counter = () => ({ type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });
    sequelize.define<Model<GcRangeRow, GcRangeRow>>(
      'ImageAttachGcRange',
      {
        runId: { type: DataTypes.STRING(32), primaryKey: true, field: 'run_id' },
        rangeIndex: { type: DataTypes.INTEGER, primaryKey: true, field: 'range_index' },
        objectType: { type: DataTypes.STRING(255), allowNull: true, field: 'object_type' },
        otherThan: { type: DataTypes.TEXT, allowNull: true, field: 'other_than' },
        options: { type: DataTypes.TEXT, allowNull: false },
        state: { type: DataTypes.STRING(16), allowNull: false },
        ...Object.fromEntries(COUNTERS.map((name) => [name, counter()])),
        updatedAt: { type: DataTypes.DATE(6), allowNull: false, field: 'updated_at' },
      } as never,
      { tableName: 'imageattach_gc_range', timestamps: false },
    );
  }
  const table = sequelize.model('ImageAttachGcRange') as RangeModel;
  if (!created.has(sequelize)) {
    await table.sync();
    created.add(sequelize);
  }
  return table;
}

/**
 * Sends one `gc-range` job per object type of `jobs.sequelize`'s image models and one for the
 * other files; the workers run them on `jobs.store` (their own).
 *
 * @example
 * const run = await distributeGc(jobs, { delete: true });
 * const report = await run.wait();
 * console.log(report.orphans, 'orphans,', report.missing, 'rows without a file');
 */
export async function distributeGc(
  jobs: ImageJobs,
  options: DistributeGcOptions = {},
): Promise<DistributedGc> {
  if (typeof jobs?.send !== 'function' || typeof jobs.queueName !== 'function') {
    throw new InvalidOptionError('jobs', 'must be the imageJobs() of this process');
  }
  const settings = validate(options);
  const { sequelize } = jobs;
  const table = await gcRangeTable(sequelize);
  const types = [...new Set(imageModelsOf(sequelize).map(objectTypeOfModel))].sort();
  const id = randomBytes(16).toString('hex');
  const ranges = [
    ...types.map((objectType) => ({ objectType, otherThan: null })),
    { objectType: null, otherThan: JSON.stringify(types) },
  ];
  await sequelize.transaction(async (transaction) => {
    for (const [rangeIndex, range] of ranges.entries()) {
      const zero = Object.fromEntries(COUNTERS.map((name) => [name, 0]));
      await table.create(
        {
          runId: id,
          rangeIndex,
          ...range,
          options: JSON.stringify(settings),
          state: 'pending',
          ...zero,
          updatedAt: new Date(),
        } as GcRangeRow,
        { transaction },
      );
      await jobs.send('gc-range', { run: id, range: rangeIndex }, { transaction });
    }
  });
  return new DistributedGc(sequelize, id);
}

/** A distributed gc: its id, and its report summed from its ranges' rows. */
export class DistributedGc {
  constructor(
    readonly sequelize: Sequelize,
    readonly id: string,
  ) {}

  async status(): Promise<DistributedGcStatus> {
    const table = await gcRangeTable(this.sequelize);
    const [sums] = (await table.findAll({
      attributes: [
        ...COUNTERS.map((name) => [fn('SUM', col(name)), name] as [ReturnType<typeof fn>, string]),
        [fn('COUNT', col('range_index')), 'ranges'],
        // In the same query as the sums: read apart, a range finishing in between would be
        // counted done while its counts were still missing from the sums.
        [literal(`SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END)`), 'rangesDone'],
      ],
      where: { runId: this.id },
      raw: true,
    })) as unknown as Record<string, unknown>[];
    const number = (name: string) => Number(sums?.[name] ?? 0);
    const ranges = number('ranges');
    const rangesDone = number('rangesDone');
    if (ranges === 0) throw new TypeError(`no distributed gc ${this.id}`);
    return {
      id: this.id,
      state: rangesDone === ranges ? 'finished' : 'running',
      ranges,
      rangesDone,
      ...(Object.fromEntries(COUNTERS.map((name) => [name, number(name)])) as Record<
        (typeof COUNTERS)[number],
        number
      >),
    };
  }

  /** Resolves with the report once every range is done. */
  async wait(options: { intervalMs?: number; signal?: AbortSignal } = {}) {
    for (;;) {
      options.signal?.throwIfAborted();
      const status = await this.status();
      if (status.state === 'finished') return status;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
    }
  }
}

function validate(options: DistributeGcOptions) {
  const gracePeriod = options.gracePeriod;
  if (
    gracePeriod !== undefined &&
    (typeof gracePeriod !== 'number' || !Number.isFinite(gracePeriod) || gracePeriod < 0)
  ) {
    throw new InvalidOptionError('gracePeriod', 'must be a number of milliseconds, 0 or more');
  }
  for (const name of ['delete', 'recover'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new InvalidOptionError(name, 'must be a boolean');
    }
  }
  return {
    gracePeriod,
    delete: options.delete ?? false,
    recover: options.recover ?? true,
  };
}
