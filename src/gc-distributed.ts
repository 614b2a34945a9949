/**
 * `distributeGc(jobs, options)`: `gc` (and, first, `recoverStagedFiles`) as jobs over parts of
 * the key space, for stores too big for one process: each object type of the image models is
 * one range, or, past `rangeSize` rows, ranges by the leading digits of its ids
 * (`gc-key-ranges.ts`: a store that honours `keyPrefix` lists only that range's files), and
 * one range holds every other file (files of no model, staged files, the journal). Like the
 * distributed migration, the jobs are sent in the transaction that inserts their rows
 * (`imageattach_gc_range`), each worker writes its range's counts there, and the report is
 * their sum, readable from any process. One run per store and database at a time: a unique
 * running key in `imageattach_gc`, with a heartbeat, since a run outlives its starter.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  DataTypes,
  fn,
  col,
  literal,
  type Model,
  type ModelStatic,
  type Sequelize,
} from 'sequelize';
import { describeStore } from './stores/describe-store.js';
import { GcRunningError, InvalidOptionError } from './errors.js';
import { depthFor, idPrefixes } from './gc-key-ranges.js';
import { countWorkersAlive, finishRunIfLast, startRun } from './jobs/running-key.js';
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
  /**
   * Rows of one object type past which it is split into ranges by the leading digits of its
   * ids (11, 101, 1001 or 10001 ranges, the fewest that make about this many rows each when
   * ids spread evenly over their leading digits, as sequential ids do).
   * @default 100000
   */
  rangeSize?: number;
  /**
   * Milliseconds without a heartbeat (workers move it on as they work, and `wait()` as it
   * follows) after which a running gc of the same store counts as abandoned, and a new start
   * replaces it.
   * @default 600000 (ten minutes)
   */
  staleAfter?: number;
}

/** The sum of a distributed gc's ranges. */
export interface DistributedGcStatus {
  id: string;
  /**
   * `'finished'` once every range is done; `'abandoned'` when a later start took it over
   * after its heartbeat went stale (its ranges not yet run are skipped).
   */
  state: 'running' | 'finished' | 'abandoned';
  ranges: number;
  rangesDone: number;
  /** Workers that worked on a range in the last five seconds. */
  workersAlive: number;
  rows: number;
  files: number;
  /** Staged files settled by `recoverStagedFiles` (recovered or removed). */
  recovered: number;
  /** Each finding summed over the ranges: the `counts` of one whole `gc`'s report. */
  counts: GcCounts;
}

export interface GcRunRow {
  id: string;
  /** sha256 of the queue and the store while running, NULL after: unique. */
  runningKey: string | null;
  state: 'running' | 'finished' | 'abandoned';
  startedAt: Date;
  heartbeatAt: Date;
  finishedAt: Date | null;
}

export interface GcRangeRow {
  runId: string;
  rangeIndex: number;
  /** The object type of the range, or null for every other file. */
  objectType: string | null;
  /** The leading characters of the range's ids (see `GcKeySpace`), or null for all. */
  idPrefix: string | null;
  /** The types of the other ranges, as JSON, for the range of every other file. */
  otherThan: string | null;
  /** The run's options, as JSON. */
  options: string;
  state: 'pending' | 'running' | 'done';
  /** `host:pid` of the worker that ran it last. */
  worker: string | null;
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

const DEFAULT_RANGE_SIZE = 100_000;
const DEFAULT_STALE_AFTER = 10 * 60 * 1000;

type RunModel = ModelStatic<Model<GcRunRow, GcRunRow>>;
type RangeModel = ModelStatic<Model<GcRangeRow, GcRangeRow>>;
const created = new WeakSet<Sequelize>();

/** The tables of the runs and their ranges, created when first needed. */
export async function gcTables(
  sequelize: Sequelize,
): Promise<{ run: RunModel; range: RangeModel }> {
  if (!sequelize.isDefined('ImageAttachGcRange')) {
    sequelize.define<Model<GcRunRow, GcRunRow>>(
      'ImageAttachGc',
      {
        id: { type: DataTypes.STRING(32), primaryKey: true },
        runningKey: {
          type: DataTypes.STRING(64),
          allowNull: true,
          unique: true,
          field: 'running_key',
        },
        state: { type: DataTypes.STRING(16), allowNull: false },
        startedAt: { type: DataTypes.DATE(6), allowNull: false, field: 'started_at' },
        heartbeatAt: { type: DataTypes.DATE(6), allowNull: false, field: 'heartbeat_at' },
        finishedAt: { type: DataTypes.DATE(6), allowNull: true, field: 'finished_at' },
      },
      { tableName: 'imageattach_gc', timestamps: false },
    );
    // A fresh definition each: Sequelize writes the column's name into it.
    const counter = () => ({ type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });
    sequelize.define<Model<GcRangeRow, GcRangeRow>>(
      'ImageAttachGcRange',
      {
        runId: { type: DataTypes.STRING(32), primaryKey: true, field: 'run_id' },
        rangeIndex: { type: DataTypes.INTEGER, primaryKey: true, field: 'range_index' },
        objectType: { type: DataTypes.STRING(255), allowNull: true, field: 'object_type' },
        idPrefix: { type: DataTypes.STRING(32), allowNull: true, field: 'id_prefix' },
        otherThan: { type: DataTypes.TEXT, allowNull: true, field: 'other_than' },
        options: { type: DataTypes.TEXT, allowNull: false },
        state: { type: DataTypes.STRING(16), allowNull: false },
        worker: { type: DataTypes.STRING(255), allowNull: true },
        ...Object.fromEntries(COUNTERS.map((name) => [name, counter()])),
        updatedAt: { type: DataTypes.DATE(6), allowNull: false, field: 'updated_at' },
      } as never,
      { tableName: 'imageattach_gc_range', timestamps: false },
    );
  }
  const run = sequelize.model('ImageAttachGc') as RunModel;
  const range = sequelize.model('ImageAttachGcRange') as RangeModel;
  if (!created.has(sequelize)) {
    await run.sync();
    await range.sync();
    created.add(sequelize);
  }
  return { run, range };
}

/**
 * Sends the `gc-range` jobs of one gc of `jobs.store`: one per object type of
 * `jobs.sequelize`'s image models (or per id range of a type past `rangeSize` rows), and one
 * for the other files; the workers run them on their own store (the same one).
 * @throws {GcRunningError} when a distributed gc of the same store and queue runs (its
 *   heartbeat newer than `staleAfter`), whichever process started it.
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
  const { rangeSize, staleAfter, ...settings } = validate(options);
  const { sequelize } = jobs;
  const tables = await gcTables(sequelize);
  const id = randomBytes(16).toString('hex');
  const runningKey = createHash('sha256')
    .update(`${jobs.queueName('gc-range')}\0${describeStore(jobs.store)}`)
    .digest('hex');
  const now = new Date();
  // Replaces a run nobody has worked on or followed for `staleAfter`.
  await startRun(
    tables.run,
    { id, runningKey, state: 'running', startedAt: now, heartbeatAt: now, finishedAt: null },
    staleAfter,
    (cause) =>
      new GcRunningError(
        `A distributed gc of ${describeStore(jobs.store)} is running already; follow it, or ` +
          `wait until its heartbeat is ${staleAfter} ms old.`,
        { cause },
      ),
  );
  try {
    const ranges = await splitKeySpace(imageModelsOf(sequelize), rangeSize);
    await sequelize.transaction(async (transaction) => {
      for (const [rangeIndex, range] of ranges.entries()) {
        const zero = Object.fromEntries(COUNTERS.map((name) => [name, 0]));
        await tables.range.create(
          {
            runId: id,
            rangeIndex,
            ...range,
            options: JSON.stringify(settings),
            state: 'pending',
            worker: null,
            ...zero,
            updatedAt: now,
          } as GcRangeRow,
          { transaction },
        );
        await jobs.send('gc-range', { run: id, range: rangeIndex }, { transaction });
      }
    });
  } catch (error) {
    await tables.run.update(
      { state: 'abandoned', runningKey: null, finishedAt: new Date() },
      { where: { id } },
    );
    throw error;
  }
  return new DistributedGc(sequelize, id);
}

type RangeSpec = Pick<GcRangeRow, 'objectType' | 'idPrefix' | 'otherThan'>;

/** The ranges of one run: each type whole or by id prefix, then every other file. */
async function splitKeySpace(
  models: readonly ModelStatic<Model>[],
  rangeSize: number,
): Promise<RangeSpec[]> {
  const rowsOfType = new Map<string, number>();
  for (const model of models) {
    const type = objectTypeOfModel(model as never);
    rowsOfType.set(type, (rowsOfType.get(type) ?? 0) + (await model.unscoped().count()));
  }
  const types = [...rowsOfType.keys()].sort();
  const ranges: RangeSpec[] = [];
  for (const objectType of types) {
    const parts = Math.ceil(rowsOfType.get(objectType)! / rangeSize);
    const prefixes = parts <= 1 ? [null] : idPrefixes(depthFor(parts));
    for (const idPrefix of prefixes) ranges.push({ objectType, idPrefix, otherThan: null });
  }
  ranges.push({ objectType: null, idPrefix: null, otherThan: JSON.stringify(types) });
  return ranges;
}

/** A distributed gc: its id, and its report summed from its ranges' rows. */
export class DistributedGc {
  constructor(
    readonly sequelize: Sequelize,
    readonly id: string,
  ) {}

  async status(): Promise<DistributedGcStatus> {
    const tables = await gcTables(this.sequelize);
    const run = await tables.run.findByPk(this.id);
    if (run === null) throw new TypeError(`no distributed gc ${this.id}`);
    const [sums] = (await tables.range.findAll({
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
    const workersAlive = await countWorkersAlive(tables.range, { runId: this.id });
    const number = (name: string) => Number(sums?.[name] ?? 0);
    return {
      id: this.id,
      state: run.get('state') as DistributedGcStatus['state'],
      ranges: number('ranges'),
      rangesDone: number('rangesDone'),
      workersAlive,
      rows: number('rows'),
      files: number('files'),
      recovered: number('recovered'),
      counts: {
        orphans: number('orphans'),
        recent: number('recent'),
        staged: number('staged'),
        missing: number('missing'),
        unknown: number('unknown'),
        deleted: number('deleted'),
        deleteFailures: number('deleteFailures'),
      },
    };
  }

  /**
   * Resolves with the report once the run is no longer running (every range done, or taken
   * over); `onStatus` sees the state at each poll. While it follows, it moves the heartbeat
   * on, so a run being followed is never taken for abandoned.
   */
  async wait(
    options: {
      intervalMs?: number;
      onStatus?: (status: DistributedGcStatus) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<DistributedGcStatus> {
    const tables = await gcTables(this.sequelize);
    for (;;) {
      options.signal?.throwIfAborted();
      await tables.run.update(
        { heartbeatAt: new Date() },
        { where: { id: this.id, state: 'running' } },
      );
      const status = await this.status();
      options.onStatus?.(status);
      if (status.state !== 'running') return status;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
    }
  }
}

/** Ends the run once no range is left to do; a no-op for every worker but one. */
export async function finishGcIfLast(sequelize: Sequelize, id: string): Promise<void> {
  const tables = await gcTables(sequelize);
  await finishRunIfLast(tables.run, tables.range, id, { runId: id });
}

function validate(options: DistributeGcOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object');
  }
  for (const name of ['gracePeriod', 'staleAfter'] as const) {
    const value = options[name];
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    ) {
      throw new InvalidOptionError(name, 'must be a number of milliseconds, 0 or more');
    }
  }
  for (const name of ['delete', 'recover'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new InvalidOptionError(name, 'must be a boolean');
    }
  }
  const rangeSize = options.rangeSize ?? DEFAULT_RANGE_SIZE;
  if (!Number.isSafeInteger(rangeSize) || rangeSize < 1) {
    throw new InvalidOptionError('rangeSize', 'must be a positive integer');
  }
  return {
    gracePeriod: options.gracePeriod,
    delete: options.delete ?? false,
    recover: options.recover ?? true,
    rangeSize,
    staleAfter: options.staleAfter ?? DEFAULT_STALE_AFTER,
  };
}
