/**
 * `sequelize-imageattach worker`: runs the image jobs of `imageJobs` (thumbnails made later)
 * on pg-boss until SIGTERM or SIGINT, then stops taking jobs and lets the running ones end.
 */
import type { Sequelize } from 'sequelize';
import {
  ImageAttachError,
  InvalidOptionError,
  InvalidStoreUrlError,
  MissingDependencyError,
} from '../errors.js';
import type { JobBoss } from '../jobs/boss.js';
import { imageJobs, type ImageJobs } from '../jobs/image-jobs.js';
import { isMissingPackage } from '../optional-peer.js';
import { storeFromUrl } from '../stores/store-url.js';
import type { Store } from '../stores/store.js';
import { parseStrict, requireOptions, UsageError } from './args.js';
import { describeDatabase, describeStore } from './describe-target.js';
import { loadSequelize } from './load-models.js';
import type { CliIO } from './migrate-command.js';

export const WORKER_USAGE = `Usage:
  sequelize-imageattach worker --models <module> --store <store-url> --database <url> [options]

Runs the image jobs the web processes send (attachImage({ later }), generateThumbnailsLater)
on pg-boss, in the application's PostgreSQL, until SIGTERM or SIGINT: then it takes no new
job and exits once the running ones have ended. Run as many workers, on as many machines, as
you like. A killed worker's jobs are run again by the others once they expire.

Options:
  --models <module>     a module exporting the Sequelize instance with its models defined
                        (the same models as the web process)
  --store <store-url>   the store the web process writes to (file:///absolute/path or s3://…)
  --database <url>      the PostgreSQL URL (default: DATABASE_URL), set as DATABASE_URL before
                        the module is loaded; --db is the same
  --concurrency <n>     jobs run at once in this process (default: 1)
  --poll-interval <ms>  how long an idle loop waits before it looks again (default: 1000)
  --queue-prefix <p>    the prefix of the queues, as given to imageJobs (default: imageattach)
  --quiet               print no line per job
  -h, --help            show this help

Exit status: 0 after a clean stop, 1 when the worker could not start, 2 for a usage or
configuration error.`;

export interface WorkerArgs {
  models: string;
  store: string;
  database: string | undefined;
  concurrency: number;
  pollIntervalMs: number;
  queuePrefix: string | undefined;
  quiet: boolean;
  help: boolean;
}

export function parseWorkerArgs(argv: readonly string[]): WorkerArgs {
  const { values } = parseStrict(argv, {
    models: { type: 'string' },
    store: { type: 'string' },
    database: { type: 'string' },
    db: { type: 'string' },
    concurrency: { type: 'string' },
    'poll-interval': { type: 'string' },
    'queue-prefix': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (!values.help) {
    requireOptions(values, ['models', 'store']);
    if (values.database !== undefined && values.db !== undefined) {
      throw new UsageError('Give --database or --db, not both.');
    }
  }
  return {
    models: values.models ?? '',
    store: values.store ?? '',
    database: values.database ?? values.db,
    concurrency: wholeNumber('--concurrency', values.concurrency, 1, 256),
    pollIntervalMs: wholeNumber('--poll-interval', values['poll-interval'], 1000, 600_000),
    queuePrefix: values['queue-prefix'],
    quiet: values.quiet,
    help: values.help,
  };
}

function wholeNumber(name: string, value: string | undefined, fallback: number, max: number) {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > max) {
    throw new UsageError(
      `${name} must be a whole number from 1 to ${max}, not ${JSON.stringify(value)}.`,
    );
  }
  return number;
}

/** Runs the worker for the command line until `io.signal` aborts; returns the exit status. */
export async function runWorkerCommand(argv: readonly string[], io: CliIO): Promise<number> {
  let store: Store | undefined;
  let sequelize: Sequelize | undefined;
  let boss: (JobBoss & { stop(options?: object): Promise<void> }) | undefined;
  try {
    const args = parseWorkerArgs(argv);
    if (args.help) {
      io.stdout.write(`${WORKER_USAGE}\n`);
      return 0;
    }
    const url = args.database ?? process.env.DATABASE_URL;
    if (url === undefined || url === '') {
      throw new UsageError('--database (or DATABASE_URL) is required: the PostgreSQL of pg-boss.');
    }
    store = await storeFromUrl(args.store);
    sequelize = await loadSequelize(args.models, url);
    if (sequelize.getDialect() !== 'postgres') {
      throw new UsageError(
        `The worker needs PostgreSQL, and the models' database is ${sequelize.getDialect()}: ` +
          'there, imageJobs runs the jobs in the web process after each commit, with no worker.',
      );
    }
    const PgBoss = await loadPgBoss();
    const started = new PgBoss({ connectionString: url });
    started.on('error', (error: Error) => io.stderr.write(`pg-boss: ${error.message}\n`));
    boss = started;
    const jobs = imageJobs({
      boss: started,
      sequelize,
      store,
      ...(args.queuePrefix === undefined ? {} : { queuePrefix: args.queuePrefix }),
    });
    io.stderr.write(
      `Working on ${describeStore(store)} for ${describeDatabase(sequelize)}, ` +
        `${args.concurrency} job(s) at a time. Stop with SIGTERM or Ctrl-C.\n`,
    );
    const counts = { completed: 0, failed: 0 };
    await jobs.work({
      concurrency: args.concurrency,
      pollIntervalMs: args.pollIntervalMs,
      onJob: (event) => {
        if (event.state !== 'started') counts[event.state]++;
        if (args.quiet) return;
        const why = event.state === 'failed' ? `: ${(event.error as Error)?.message}` : '';
        io.stdout.write(`${event.state} ${event.kind} ${event.id}${why}\n`);
      },
    });
    await aborted(io.signal);
    await jobs.stop();
    io.stderr.write(`Stopped: ${counts.completed} job(s) done, ${counts.failed} failed.\n`);
    return 0;
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof InvalidStoreUrlError ||
      error instanceof InvalidOptionError ||
      error instanceof MissingDependencyError
    ) {
      io.stderr.write(`error: ${error.message}\n\n${WORKER_USAGE}\n`);
      return 2;
    }
    const code = error instanceof ImageAttachError ? ` (${error.code})` : '';
    io.stderr.write(`error${code}: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  } finally {
    await boss?.stop({ graceful: false }).catch(() => undefined);
    await sequelize?.close().catch(() => undefined);
    const closable = store as unknown as { destroy?: () => void } | undefined;
    closable?.destroy?.();
  }
}

type PgBossClass = new (options: { connectionString: string }) => JobBoss & {
  on(event: 'error', listener: (error: Error) => void): unknown;
  stop(options?: object): Promise<void>;
};

/**
 * For `--workers`: the `imageJobs` of a pg-boss on the models' PostgreSQL (`--db` or
 * `DATABASE_URL`), passed to `fn` and stopped after it, whatever it did.
 * @throws {UsageError} when the models' database is not PostgreSQL or no URL is given.
 */
export async function withWorkerJobs<T>(
  db: string | undefined,
  io: { stderr: { write(text: string): unknown } },
  sequelize: Sequelize,
  store: Store,
  fn: (jobs: ImageJobs) => Promise<T>,
): Promise<T> {
  if (sequelize.getDialect() !== 'postgres') {
    throw new UsageError(
      `--workers needs PostgreSQL (pg-boss), and the models' database is ${sequelize.getDialect()}.`,
    );
  }
  const url = db ?? process.env.DATABASE_URL;
  if (url === undefined || url === '') {
    throw new UsageError('--workers needs --db (or DATABASE_URL): the PostgreSQL of pg-boss.');
  }
  const PgBoss = await loadPgBoss();
  const boss = new PgBoss({ connectionString: url });
  boss.on('error', (error: Error) => io.stderr.write(`pg-boss: ${error.message}\n`));
  const jobs = imageJobs({ boss, sequelize, store });
  try {
    return await fn(jobs);
  } finally {
    await jobs.stop();
    await boss.stop({ graceful: false }).catch(() => undefined);
  }
}

/** pg-boss is an optional peer dependency: only the worker loads it. */
export async function loadPgBoss(): Promise<PgBossClass> {
  try {
    const loaded = (await import('pg-boss')) as { default: PgBossClass };
    return loaded.default;
  } catch (error) {
    // Only pg-boss itself missing: a failure inside an installed pg-boss is reported as is.
    if (!isMissingPackage(error, 'pg-boss')) throw error;
    throw new MissingDependencyError(['pg-boss@10'], 'sequelize-imageattach worker', {
      cause: error,
    });
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise(() => undefined);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
