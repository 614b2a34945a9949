/**
 * `migrate(...).distribute(jobs, { from, to })`: a migration shared by any number of worker
 * processes. The plan's rows are split into key ranges (`key-ranges.ts`), one `migrate-range`
 * job each, sent in the transaction that inserts the migration's rows (`distributed-tables.ts`):
 * either both exist or neither. Progress is the sum of the ranges' rows, so any process can
 * follow it, and it survives the process that started it and the death of any worker (pg-boss
 * gives the range of a killed worker to another after its `expireInSeconds`).
 */
import { randomBytes } from 'node:crypto';
import { col, fn, literal, Op, type ModelStatic, type Sequelize } from 'sequelize';
import { InvalidOptionError, MigrationRunningError } from '../errors.js';
import type { ImageJobs } from '../jobs/image-jobs.js';
import { countWorkersAlive, startRun } from '../jobs/running-key.js';
import type { Image } from '../models/image.js';
import {
  ensureMigrationTables,
  runningKeyOf,
  type MigrationRangeRow,
  type MigrationState,
} from './distributed-tables.js';
import { splitIntoRanges } from './key-ranges.js';
import type { MigrationOptions } from './types.js';

export interface DistributeOptions {
  /**
   * How workers find the source store: a name given to `migrationStores()` in the worker
   * processes, or a store URL (`file:///…?baseUrl=…`, `s3://…`). With `to`, it also names the
   * migration: one migration of a source to a destination runs at a time.
   */
  from: string;
  /** How workers find the destination store (as `from`). */
  to: string;
  /**
   * Rows per range (per job). A killed worker's range is copied again (skipping what is there
   * with `skipExisting`), so smaller ranges redo less and cost more jobs.
   * @default 1000
   */
  rangeSize?: number;
  /**
   * Milliseconds without a heartbeat (workers move it on as they copy) after which a running
   * migration of the same stores counts as abandoned, and a new start may replace it.
   * @default 600000 (ten minutes)
   */
  staleAfter?: number;
}

/** The state of a distributed migration, read from its rows. */
export interface DistributedMigrationStatus {
  id: string;
  source: string;
  destination: string;
  state: MigrationState;
  /** Rows counted when the ranges were made. */
  total: number;
  /** Images finished (migrated, skipped or failed), by the last run of each range. */
  done: number;
  migrated: number;
  skipped: number;
  failed: number;
  bytes: number;
  ranges: number;
  rangesDone: number;
  /** Workers that wrote progress in the last `ALIVE_MS` (five seconds). */
  workersAlive: number;
  /** 100 once finished; otherwise `done / total`, below 100. */
  percent: number;
  startedAt: Date;
  heartbeatAt: Date;
  finishedAt: Date | null;
  /** The first failures' messages of each range. */
  errors: string[];
}

const DEFAULT_RANGE_SIZE = 1000;
const DEFAULT_STALE_AFTER = 10 * 60 * 1000;

/** What `migrate()` and `migrateClass()` tell a plan, for `distribute()`. */
export interface DistributableSource {
  readonly sequelize: Sequelize;
  readonly models: readonly ModelStatic<Image>[];
  readonly options: MigrationOptions;
}

/** A distributed migration: its id, and its state read from the database. */
export class DistributedMigration {
  constructor(
    readonly sequelize: Sequelize,
    readonly id: string,
  ) {}

  /** The migration's state now. */
  status(): Promise<DistributedMigrationStatus> {
    return distributedMigrationStatus(this.sequelize, this.id);
  }

  /**
   * Resolves with the final state once the migration is no longer running; `onStatus` sees
   * the state at each poll.
   */
  async wait(
    options: {
      intervalMs?: number;
      onStatus?: (status: DistributedMigrationStatus) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<DistributedMigrationStatus> {
    for (;;) {
      options.signal?.throwIfAborted();
      const status = await this.status();
      options.onStatus?.(status);
      if (status.state !== 'running') return status;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
    }
  }

  /** Stops the migration: ranges not started do nothing, running ones stop at their next flush. */
  async cancel(): Promise<void> {
    const { migration } = await ensureMigrationTables(this.sequelize);
    await migration.update(
      { state: 'cancelled', runningKey: null, finishedAt: new Date() },
      { where: { id: this.id, state: 'running' } },
    );
  }
}

/**
 * Starts a distributed migration: splits the rows into ranges and sends one job per range.
 * @throws {MigrationRunningError} when a migration of the same `from` and `to` runs (its
 *   heartbeat newer than `staleAfter`), whichever process started it.
 */
export async function distributeMigration(
  plan: DistributableSource,
  jobs: ImageJobs,
  options: DistributeOptions,
): Promise<DistributedMigration> {
  const { from, to, rangeSize, staleAfter } = validate(jobs, options);
  const { sequelize } = plan;
  const tables = await ensureMigrationTables(sequelize);
  const id = randomBytes(16).toString('hex');
  const runningKey = runningKeyOf(from, to);
  const copyOptions: MigrationOptions = {
    verify: plan.options.verify,
    skipExisting: plan.options.skipExisting ?? true,
    dryRun: plan.options.dryRun,
    concurrency: plan.options.concurrency,
    pageSize: plan.options.pageSize,
  };
  const now = new Date();
  // Replaces a migration nobody has worked on for `staleAfter` (its workers and starter gone).
  await startRun(
    tables.migration,
    {
      id,
      source: from,
      destination: to,
      runningKey,
      state: 'running',
      options: JSON.stringify(copyOptions),
      total: 0,
      ranges: 0,
      startedAt: now,
      heartbeatAt: now,
      finishedAt: null,
    },
    staleAfter,
    (cause) =>
      new MigrationRunningError(
        `A migration from ${from} to ${to} is running already; follow it, or cancel it first.`,
        { cause },
      ),
  );
  try {
    await sequelize.transaction(async (transaction) => {
      let index = 0;
      let total = 0;
      for await (const range of splitIntoRanges(plan.models, rangeSize)) {
        const row: MigrationRangeRow = {
          migrationId: id,
          rangeIndex: index,
          model: range.model,
          after: range.after === null ? null : JSON.stringify(range.after),
          upTo: range.upTo === null ? null : JSON.stringify(range.upTo),
          state: 'pending',
          total: range.total,
          done: 0,
          migrated: 0,
          skipped: 0,
          failed: 0,
          bytes: 0,
          worker: null,
          errors: null,
          updatedAt: now,
        };
        await tables.range.create(row, { transaction });
        await jobs.send('migrate-range', { migration: id, range: index }, { transaction });
        index += 1;
        total += range.total;
      }
      await tables.migration.update({ total, ranges: index }, { where: { id }, transaction });
    });
  } catch (error) {
    await tables.migration.update(
      { state: 'abandoned', runningKey: null, finishedAt: new Date() },
      { where: { id } },
    );
    throw error;
  }
  return new DistributedMigration(sequelize, id);
}

/** The state of the distributed migration `id`, summed over its ranges. */
export async function distributedMigrationStatus(
  sequelize: Sequelize,
  id: string,
): Promise<DistributedMigrationStatus> {
  const tables = await ensureMigrationTables(sequelize);
  const found = await tables.migration.findByPk(id);
  if (found === null) throw new TypeError(`no distributed migration ${id}`);
  const migration = found.get({ plain: true });
  const sum = (name: string) => [fn('SUM', col(name)), name] as [ReturnType<typeof fn>, string];
  const [sums] = (await tables.range.findAll({
    attributes: [
      sum('done'),
      sum('migrated'),
      sum('skipped'),
      sum('failed'),
      sum('bytes'),
      [fn('COUNT', col('range_index')), 'ranges'],
      // With the sums, not in a query of its own, so that the two agree.
      [literal(`SUM(CASE WHEN state = 'done' THEN 1 ELSE 0 END)`), 'rangesDone'],
    ],
    where: { migrationId: id },
    raw: true,
  })) as unknown as Record<string, unknown>[];
  const workersAlive = await countWorkersAlive(tables.range, { migrationId: id });
  const errorRows = await tables.range.findAll({
    attributes: ['errors'],
    where: { migrationId: id, failed: { [Op.gt]: 0 } },
    limit: 10,
    raw: true,
  });
  const number = (name: string) => Number(sums?.[name] ?? 0);
  const rangesDone = number('rangesDone');
  const done = number('done');
  const total = migration.total;
  return {
    id,
    source: migration.source,
    destination: migration.destination,
    state: migration.state,
    total,
    done,
    migrated: number('migrated'),
    skipped: number('skipped'),
    failed: number('failed'),
    bytes: number('bytes'),
    ranges: migration.ranges,
    rangesDone,
    workersAlive,
    percent:
      migration.state === 'finished'
        ? 100
        : total === 0
          ? 0
          : Math.min(99.9, Math.floor((done / total) * 1000) / 10),
    startedAt: migration.startedAt,
    heartbeatAt: migration.heartbeatAt,
    finishedAt: migration.finishedAt,
    errors: (errorRows as unknown as { errors: string | null }[]).flatMap(
      (row) => JSON.parse(row.errors ?? '[]') as string[],
    ),
  };
}

function validate(jobs: ImageJobs, options: DistributeOptions) {
  if (typeof jobs?.send !== 'function' || typeof jobs.queueName !== 'function') {
    throw new InvalidOptionError('jobs', 'must be the imageJobs() of this process');
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'pass { from, to }: how workers find the stores');
  }
  for (const name of ['from', 'to'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '') {
      throw new InvalidOptionError(name, 'must name a store (a migrationStores() name or a URL)');
    }
  }
  if (options.from === options.to) {
    throw new InvalidOptionError('to', 'names the same store as `from`');
  }
  const rangeSize = options.rangeSize ?? DEFAULT_RANGE_SIZE;
  if (!Number.isSafeInteger(rangeSize) || rangeSize < 1) {
    throw new InvalidOptionError('rangeSize', 'must be a positive integer');
  }
  const staleAfter = options.staleAfter ?? DEFAULT_STALE_AFTER;
  if (typeof staleAfter !== 'number' || !Number.isFinite(staleAfter) || staleAfter < 0) {
    throw new InvalidOptionError('staleAfter', 'must be a number of milliseconds, 0 or more');
  }
  return { from: options.from, to: options.to, rangeSize, staleAfter };
}
