// To add a kind of job (e.g. a migration range): write `src/jobs/<name>-job.ts` exporting a
// `JobKind` (a `name` and an idempotent `run(data, { sequelize, store, signal })`), add it to
// `JOB_KINDS` in `job-kinds.ts`, and send it with `jobs.send('<name>', data, { transaction })`.
// Its queue `<prefix>-<name>` and dead-letter queue `<prefix>-<name>-failed` are created by
// `ready()`, and every worker's fetch loops poll it after the kinds before it.
/**
 * `imageJobs({ boss, sequelize, store })`: image work off the request path. With a pg-boss 10
 * instance on the application's PostgreSQL, jobs are rows of pg-boss's tables, sent inside the
 * caller's transaction, and any number of worker processes run them (`jobs.work()`). Without
 * one (SQLite, MySQL/MariaDB), they run in the sending process after its commit.
 */
import type { Sequelize, Transaction } from 'sequelize';
import { InvalidOptionError } from '../errors.js';
import type { ThumbnailFormat, ThumbnailSize } from '../images/thumbnail.js';
import {
  registerScheduler,
  unregisterScheduler,
  type ImageSetAddress,
  type ThumbnailScheduler,
} from '../models/thumbnail-scheduler.js';
import { assertStore, type Store } from '../stores/store.js';
import type { FetchedJob, JobBoss } from './boss.js';
import { FetchLoops, type JobEvent } from './fetch-loops.js';
import { InProcessRunner } from './in-process-runner.js';
import { findJobKind, JOB_KINDS, type JobKind } from './job-kinds.js';
import { transactionDb } from './transaction-db.js';

export interface ImageJobsOptions {
  /**
   * A pg-boss 10 instance on the same PostgreSQL as `sequelize` (it need not be started).
   * Leave it out where pg-boss cannot run (SQLite, MySQL/MariaDB): jobs then run in this
   * process after the sending transaction commits.
   * @default none (in-process)
   */
  boss?: JobBoss;
  /** The application's Sequelize, with its image models defined. */
  sequelize: Sequelize;
  /** The store the workers read originals from and write thumbnails to. */
  store: Store;
  /**
   * The prefix of the queues' names: `<prefix>-thumbnails`, `<prefix>-thumbnails-failed`.
   * @default 'imageattach'
   */
  queuePrefix?: string;
  /**
   * Retries after a failed attempt; then the job goes to the dead-letter queue
   * `<prefix>-<kind>-failed` with its error as its output.
   * @default 5
   */
  retryLimit?: number;
  /** Seconds before the first retry. @default 5 */
  retryDelay?: number;
  /** Doubles the delay at each retry, with jitter. @default true */
  retryBackoff?: boolean;
  /**
   * Seconds a job may stay active before pg-boss fails it (and retries it): how long the job
   * of a killed worker waits before another worker takes it. Size it above your slowest job
   * (see "Scaling out" in the README). pg-boss only notices at a maintenance pass.
   * @default 300
   */
  expireInSeconds?: number;
  /**
   * In-process only: jobs run at once in this process.
   * @default 1
   */
  concurrency?: number;
  /**
   * In-process only: told of a job that failed its last retry (pg-boss keeps those in the
   * dead-letter queue instead).
   * @default a process warning
   */
  onFailed?: (failure: { kind: string; data: object; error: unknown }) => void;
}

/** Options of `jobs.work()`. */
export interface WorkOptions {
  /** Jobs this process runs at once: one fetch loop each. @default 1 */
  concurrency?: number;
  /** Milliseconds a loop waits after finding every queue empty. @default 1000 */
  pollIntervalMs?: number;
  /** Told as each job starts and ends in this process (for logs). @default none */
  onJob?: (event: JobEvent) => void;
}

const DEFAULTS = { retryLimit: 5, retryDelay: 5, expireInSeconds: 300 };

/**
 * The jobs of one process: one per Sequelize, made at startup. It is also what
 * `attachImage({ later })` and `set.generateThumbnailsLater()` send to.
 *
 * @example
 * const boss = new PgBoss(process.env.DATABASE_URL);
 * const jobs = imageJobs({ boss, sequelize, store });
 * // web process: attachImage({ to, thumbnails: [{ width: 128 }], later: jobs })
 * // worker process:
 * await jobs.work({ concurrency: 2 });
 * process.once('SIGTERM', () => void jobs.stop().then(() => boss.stop()));
 */
export function imageJobs(options: ImageJobsOptions): ImageJobs {
  return new ImageJobs(options);
}

export class ImageJobs implements ThumbnailScheduler {
  /** `'pg-boss'` with a boss, `'in-process'` without. */
  readonly mode: 'pg-boss' | 'in-process';
  readonly sequelize: Sequelize;
  readonly store: Store;
  private readonly boss: JobBoss | undefined;
  private readonly prefix: string;
  private readonly retry: { retryLimit: number; retryDelay: number; retryBackoff: boolean };
  private readonly expireInSeconds: number;
  private readonly runner: InProcessRunner | undefined;
  private readyPromise: Promise<void> | undefined;
  private loops: FetchLoops[] = [];

  /** @internal use {@link imageJobs}. */
  constructor(options: ImageJobsOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('options', 'pass { boss, sequelize, store }');
    }
    const { boss, sequelize, store } = options;
    if (typeof sequelize?.getDialect !== 'function') {
      throw new InvalidOptionError('sequelize', 'must be the Sequelize instance of the models');
    }
    assertStore(store, 'store');
    if (boss !== undefined) {
      if (typeof boss?.fetch !== 'function' || typeof boss.send !== 'function') {
        throw new InvalidOptionError('boss', 'must be a pg-boss 10 instance');
      }
      if (sequelize.getDialect() !== 'postgres') {
        throw new InvalidOptionError(
          'boss',
          `pg-boss needs PostgreSQL, and this Sequelize is ${sequelize.getDialect()}; leave boss ` +
            'out to run the jobs in this process',
        );
      }
    }
    this.prefix = options.queuePrefix ?? 'imageattach';
    if (!/^[\w-]+$/.test(this.prefix)) {
      throw new InvalidOptionError('queuePrefix', 'must be letters, digits, _ and -');
    }
    this.retry = {
      retryLimit: integer('retryLimit', options.retryLimit ?? DEFAULTS.retryLimit, 0),
      retryDelay: integer('retryDelay', options.retryDelay ?? DEFAULTS.retryDelay, 0),
      retryBackoff: options.retryBackoff ?? true,
    };
    if (typeof this.retry.retryBackoff !== 'boolean') {
      throw new InvalidOptionError('retryBackoff', 'must be true or false');
    }
    this.expireInSeconds = integer(
      'expireInSeconds',
      options.expireInSeconds ?? DEFAULTS.expireInSeconds,
      1,
    );
    const onFailed = options.onFailed ?? warnFailed;
    if (typeof onFailed !== 'function') {
      throw new InvalidOptionError('onFailed', 'must be a function');
    }
    this.mode = boss === undefined ? 'in-process' : 'pg-boss';
    this.boss = boss;
    this.sequelize = sequelize;
    this.store = store;
    if (boss === undefined) {
      this.runner = new InProcessRunner({
        ...this.retry,
        concurrency: integer('concurrency', options.concurrency ?? 1, 1),
        run: (job, signal) => this.runKind(findJobKind(job.kind)!, job.data, signal),
        onFailed: (job, error) => onFailed({ ...job, error }),
      });
    }
    registerScheduler(sequelize, this);
  }

  /** The queue a kind's jobs go to. */
  queueName(kind: string): string {
    return `${this.prefix}-${kind}`;
  }

  /** The queue where a kind's jobs that failed every retry are kept, with their error. */
  deadLetterQueueName(kind: string): string {
    return `${this.prefix}-${kind}-failed`;
  }

  /**
   * Starts pg-boss (creating its schema the first time) and creates the queues; `send` and
   * `work` call it first. Resolves at once in-process.
   */
  ready(): Promise<void> {
    this.readyPromise ??= this.createQueues().catch((error: unknown) => {
      this.readyPromise = undefined;
      throw error;
    });
    return this.readyPromise;
  }

  /**
   * Sends one job of `kind` inside `transaction`: it is seen with the transaction's rows, and
   * dropped if they are rolled back. In-process, it runs here once the transaction commits.
   * @internal for the kinds of `job-kinds.ts`.
   */
  async send(kind: string, data: object, options: { transaction: Transaction }): Promise<void> {
    if (findJobKind(kind) === undefined) throw new TypeError(`no job kind ${kind}`);
    const { transaction } = options;
    if (this.runner !== undefined) {
      this.runner.afterCommit(transaction, { kind, data });
      return;
    }
    await this.ready();
    await this.boss!.send(this.queueName(kind), data, {
      ...this.retry,
      expireInSeconds: this.expireInSeconds,
      deadLetter: this.deadLetterQueueName(kind),
      db: transactionDb(this.sequelize, transaction),
    });
  }

  /** @internal `ThumbnailScheduler`: what `generateThumbnailsLater` calls. */
  scheduleThumbnails(
    address: ImageSetAddress,
    sizes: readonly ThumbnailSize[],
    transaction: Transaction,
    formats: readonly ThumbnailFormat[] = [],
  ): Promise<void> {
    // Without formats, the job's data stays what workers of earlier versions read.
    const data = formats.length === 0 ? {} : { formats: [...formats] };
    return this.send('thumbnails', { set: address, sizes: [...sizes], ...data }, { transaction });
  }

  /**
   * Runs jobs in this process: `concurrency` loops, each one job at a time, until `stop()`.
   * Resolves once the queues exist and the loops have started. In-process, jobs run anyway.
   */
  async work(options: WorkOptions = {}): Promise<void> {
    const concurrency = integer('concurrency', options.concurrency ?? 1, 1);
    const pollIntervalMs = integer('pollIntervalMs', options.pollIntervalMs ?? 1000, 1);
    if (options.onJob !== undefined && typeof options.onJob !== 'function') {
      throw new InvalidOptionError('onJob', 'must be a function');
    }
    if (this.boss === undefined) return;
    await this.ready();
    this.loops.push(
      new FetchLoops({
        boss: this.boss,
        kinds: JOB_KINDS,
        queueOf: (kind) => this.queueName(kind.name),
        concurrency,
        pollIntervalMs,
        run: (kind, job: FetchedJob, signal) => this.runKind(kind, job.data as object, signal),
        onJob: options.onJob,
      }),
    );
  }

  /**
   * Resolves when this process runs no job and (in-process) none waits: for tests and for a
   * clean shutdown of a web process.
   */
  async onIdle(): Promise<void> {
    await this.runner?.onIdle();
  }

  /**
   * Stops taking jobs and resolves when the running ones have ended (pg-boss itself is left to
   * its owner: `boss.stop()` after this). In-process, jobs not started yet are dropped.
   */
  async stop(): Promise<void> {
    const loops = this.loops;
    this.loops = [];
    await Promise.all([...loops.map((loop) => loop.stop()), this.runner?.stop()]);
    unregisterScheduler(this.sequelize, this);
  }

  private async createQueues(): Promise<void> {
    const boss = this.boss;
    if (boss === undefined) return;
    await boss.start();
    for (const kind of JOB_KINDS) {
      const deadLetter = this.deadLetterQueueName(kind.name);
      // The dead-letter queue first: a queue's deadLetter must name an existing queue.
      await boss.createQueue(deadLetter, { name: deadLetter });
      await boss.createQueue(this.queueName(kind.name), {
        name: this.queueName(kind.name),
        ...this.retry,
        expireInSeconds: this.expireInSeconds,
        deadLetter,
      });
    }
  }

  private runKind(kind: JobKind, data: object, signal: AbortSignal) {
    return kind.run(data, { sequelize: this.sequelize, store: this.store, signal });
  }
}

function integer(name: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) {
    throw new InvalidOptionError(name, `must be a whole number of at least ${min}`);
  }
  return value as number;
}

function warnFailed({ kind, error }: { kind: string; error: unknown }): void {
  process.emitWarning(
    `sequelize-imageattach: a ${kind} job failed its last retry: ${String(error)}`,
    'ImageJobsWarning',
  );
}
