/**
 * The admin router's migrations when it is given `jobs`: started with `plan.distribute()`,
 * read back from the migration's rows (so a restarted process, or another web process, shows
 * the same migration), and streamed by one poller per router while someone listens.
 */
import { Op, type Sequelize } from 'sequelize';
import type { ImageJobs } from '../jobs/image-jobs.js';
import {
  distributedMigrationStatus,
  DistributedMigration,
  type DistributedMigrationStatus,
} from '../migration/distribute.js';
import { ensureMigrationTables } from '../migration/distributed-tables.js';
import { migrate } from '../migration/migrate.js';
import { migrationStores } from '../migration/migration-stores.js';
import type { MigrationState, MigrationStatusJson } from '../migration/tracker.js';
import type { MigrationOptions } from '../migration/types.js';
import type { Store } from '../stores/store.js';

/** A migration run by workers, as the router shows it. */
export interface DistributedMigrationStatusJson extends Omit<MigrationStatusJson, 'id'> {
  /** The migration's id in `imageattach_migration`. */
  id: string;
  distributed: true;
  /** Worker processes that wrote progress in the last five seconds. */
  workersAlive: number;
  /** 100 once finished. */
  percent: number;
  ranges: number;
  rangesDone: number;
  /** The first failures' messages (the per-image `failures` are not kept across workers). */
  errors: string[];
}

export type DistributedEvent = 'status' | 'start' | 'progress' | 'end';

const STATES: Record<DistributedMigrationStatus['state'], MigrationState> = {
  running: 'running',
  finished: 'succeeded',
  cancelled: 'cancelled',
  abandoned: 'failed',
};

/** Starts, reads and streams the distributed migrations between the router's stores. */
export class DistributedMigrations {
  readonly #sequelize: Sequelize;
  readonly #jobs: ImageJobs;
  readonly #names: string[];
  readonly #stores: Readonly<Record<string, Store>>;
  readonly #watchers = new Set<
    (event: DistributedEvent, status: DistributedMigrationStatusJson | null) => void
  >();
  #timer: NodeJS.Timeout | undefined;
  #last: DistributedMigrationStatusJson | null | undefined;

  constructor(
    sequelize: Sequelize,
    jobs: ImageJobs,
    stores: Readonly<Record<string, Store>>,
    private readonly interval: number,
  ) {
    this.#sequelize = sequelize;
    this.#jobs = jobs;
    this.#stores = stores;
    this.#names = Object.keys(stores);
    // Workers in this process find the stores by the names the router starts migrations with.
    migrationStores(sequelize, stores);
  }

  /** The running or last migration between two of the router's stores, or null. */
  async current(): Promise<DistributedMigrationStatusJson | null> {
    const tables = await ensureMigrationTables(this.#sequelize);
    const where = { source: { [Op.in]: this.#names }, destination: { [Op.in]: this.#names } };
    const row =
      (await tables.migration.findOne({ where: { ...where, state: 'running' } })) ??
      (await tables.migration.findOne({ where, order: [['startedAt', 'DESC']] }));
    if (row === null) return null;
    const { id, options: json } = row.get({ plain: true });
    const status = await distributedMigrationStatus(this.#sequelize, id);
    const options = JSON.parse(json) as MigrationOptions;
    return toJson(status, options.dryRun ?? false);
  }

  /**
   * Splits the migration into range jobs.
   * @throws {MigrationRunningError} when the same migration runs, started by any process.
   */
  async start(
    from: string,
    to: string,
    options: MigrationOptions,
  ): Promise<DistributedMigrationStatusJson> {
    const plan = migrate(this.#sequelize, this.#stores[from]!, this.#stores[to]!, options);
    const migration = await plan.distribute(this.#jobs, { from, to });
    const status = toJson(await migration.status(), options.dryRun ?? false);
    // Told here, since a small migration may end before the next poll.
    if (this.#watchers.size > 0) this.#last = status;
    for (const watcher of this.#watchers) watcher('start', status);
    return status;
  }

  /** Cancels the running migration; false when none runs. */
  async cancel(): Promise<DistributedMigrationStatusJson | false> {
    const status = await this.current();
    if (status?.state !== 'running') return false;
    await new DistributedMigration(this.#sequelize, status.id).cancel();
    this.#poll();
    return (await this.current()) ?? false;
  }

  /**
   * Tells `watcher` the current state now (`status`), then `start`, `progress` and `end` as
   * the poller sees them; returns the function that stops it.
   */
  watch(
    watcher: (event: DistributedEvent, status: DistributedMigrationStatusJson | null) => void,
  ): () => void {
    this.#watchers.add(watcher);
    void this.current().then(
      (status) => {
        if (!this.#watchers.has(watcher)) return;
        watcher('status', status);
        this.#last ??= status;
        this.#timer ??= setTimeout(() => this.#poll(), this.interval);
      },
      () => watcher('status', null),
    );
    return () => {
      this.#watchers.delete(watcher);
      if (this.#watchers.size === 0 && this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#last = undefined;
      }
    };
  }

  /** Reads the state once and tells the watchers what changed, then polls again. */
  #poll(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#watchers.size === 0) return;
    const before = this.#last;
    this.current()
      .then((status) => {
        this.#last = status;
        const event = changeOf(before ?? null, status);
        if (event !== undefined) for (const watcher of this.#watchers) watcher(event, status);
      })
      .catch(() => undefined)
      .finally(() => {
        if (this.#watchers.size > 0 && this.#timer === undefined) {
          this.#timer = setTimeout(() => this.#poll(), Math.max(this.interval, 100));
        }
      });
  }
}

function changeOf(
  before: DistributedMigrationStatusJson | null,
  now: DistributedMigrationStatusJson | null,
): DistributedEvent | undefined {
  if (now === null) return undefined;
  if (before?.id !== now.id) return now.state === 'running' ? 'start' : 'end';
  if (before.state === 'running' && now.state !== 'running') return 'end';
  if (now.state !== 'running') return undefined;
  const moved = (['done', 'total', 'failed', 'workersAlive', 'rangesDone'] as const).some(
    (name) => before[name] !== now[name],
  );
  return moved ? 'progress' : undefined;
}

function toJson(
  status: DistributedMigrationStatus,
  dryRun: boolean,
): DistributedMigrationStatusJson {
  return {
    id: status.id,
    distributed: true,
    state: STATES[status.state],
    from: status.source,
    to: status.destination,
    dryRun,
    total: status.total,
    done: status.done,
    migrated: status.migrated,
    skipped: status.skipped,
    failed: status.failed,
    bytes: status.bytes,
    startedAt: status.startedAt.toISOString(),
    endedAt: status.finishedAt?.toISOString() ?? null,
    failures: [],
    error:
      status.state === 'abandoned'
        ? {
            code: 'E_MIGRATION_ABANDONED',
            message: 'No worker moved the migration on for too long.',
          }
        : null,
    workersAlive: status.workersAlive,
    percent: status.percent,
    ranges: status.ranges,
    rangesDone: status.rangesDone,
    errors: status.errors,
  };
}
