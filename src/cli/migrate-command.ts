/**
 * `sequelize-imageattach migrate`: a thin wrapper over `migrate()` that prints progress and
 * failures and turns the outcome into an exit status.
 */
import type { Sequelize } from 'sequelize';
import {
  ImageAttachError,
  InvalidStoreUrlError,
  MigrationError,
  type MigrationImageError,
} from '../errors.js';
import { MIGRATION_TABLE } from '../migration/distributed-tables.js';
import { imageModelsOf, migrate } from '../migration/migrate.js';
import type { MigrationReport, MigrationSummary } from '../migration/types.js';
import { storeFromUrl } from '../stores/store-url.js';
import type { Store } from '../stores/store.js';
import { MIGRATE_USAGE, parseMigrateArgs, UsageError, type MigrateArgs } from './args.js';
import { describeDatabase, describeImage, describeStore } from './describe-target.js';
import { loadSequelize } from './load-models.js';
import { runOnWorkers } from './migrate-workers.js';
import { formatBytes, ProgressReporter, type ProgressStream } from './progress.js';

export interface CliIO {
  stdout: ProgressStream;
  stderr: ProgressStream;
  /** Aborts the run (the CLI wires it to SIGINT and SIGTERM). */
  signal?: AbortSignal;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** `sequelize-imageattach migrate …`: parses the arguments after the command's name and runs. */
export async function runMigrateCommand(argv: readonly string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseMigrateArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`error: ${error.message}\n\n${MIGRATE_USAGE}\n`);
    return EXIT.usage;
  }
  if (args.command === 'help') {
    io.stdout.write(`${MIGRATE_USAGE}\n`);
    return EXIT.ok;
  }
  return runMigrate(args, io);
}

export async function runMigrate(args: MigrateArgs, io: CliIO): Promise<number> {
  const stores: Store[] = [];
  let sequelize: Sequelize | undefined;
  try {
    if (args.from === args.to) throw new UsageError('--from and --to name the same store.');
    const source = await storeArg('--from', args.from);
    stores.push(source);
    const destination = await storeArg('--to', args.to);
    stores.push(destination);
    sequelize = await loadSequelize(args.models, args.db);
    const models = imageModelsOf(sequelize);
    if (models.length === 0) {
      throw new UsageError(
        `--models ${args.models}: no model of its Sequelize instance extends Image.`,
      );
    }
    // Before anything is written: what is read, what is written.
    io.stderr.write(
      `${args.dryRun ? 'Dry run: would copy' : 'Copying'} from ${describeStore(source)} ` +
        `to ${describeStore(destination)}${args.dryRun ? '' : ' (files there are replaced)'}, ` +
        `for the image rows of ${describeDatabase(sequelize)} (read only` +
        `${args.workers ? `; the run recorded in ${MIGRATION_TABLE}` : ''}).\n`,
    );
    const plan = migrate(sequelize, source, destination, {
      concurrency: args.concurrency,
      pageSize: args.pageSize,
      verify: args.verify,
      skipExisting: args.resume || args.workers,
      dryRun: args.dryRun,
      failFast: args.failFast,
      signal: io.signal,
    });
    if (args.workers) return await runOnWorkers(args, io, sequelize, plan, destination);
    const reporter = new ProgressReporter(io.stderr);
    let last: MigrationSummary = {
      total: 0,
      done: 0,
      migrated: 0,
      skipped: 0,
      failed: 0,
      bytes: 0,
    };
    plan.on('start', ({ total, dryRun }) => {
      last = { ...last, total };
      io.stderr.write(`${models.map((m) => m.name).join(', ')}: ${args.from} → ${args.to}\n`);
      reporter.start(total, dryRun);
    });
    plan.on('progress', (progress) => {
      last = progress;
      reporter.update(progress);
    });
    const started = Date.now();
    try {
      const report = await plan.execute();
      reporter.finish(report);
      io.stdout.write(`${summary(report, args.dryRun, Date.now() - started)}\n`);
      return EXIT.ok;
    } catch (error) {
      reporter.finish(last);
      if (error instanceof MigrationError) {
        io.stdout.write(`${summary(error.summary ?? last, args.dryRun, Date.now() - started)}\n`);
        io.stderr.write(`${error.failures.length} image(s) failed:\n`);
        for (const failure of error.failures) io.stderr.write(`  ${describeFailure(failure)}\n`);
        io.stderr.write('Fix them, then run again with --resume to copy only what is missing.\n');
        return EXIT.failed;
      }
      if (io.signal?.aborted === true) {
        io.stderr.write(
          `Interrupted after ${last.done} of ${last.total} images; nothing half-written is left. ` +
            'Run the same command with --resume to continue.\n',
        );
        return EXIT.interrupted;
      }
      throw error;
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof InvalidStoreUrlError) {
      io.stderr.write(
        `error: ${error.message}\nRun sequelize-imageattach --help for the options.\n`,
      );
      return EXIT.usage;
    }
    const code = error instanceof ImageAttachError ? ` (${error.code})` : '';
    io.stderr.write(`error${code}: ${(error as Error).message ?? String(error)}\n`);
    return EXIT.failed;
  } finally {
    await sequelize?.close().catch(() => undefined);
    for (const store of stores) (store as Store & { destroy?: () => void }).destroy?.();
  }
}

async function storeArg(option: string, url: string): Promise<Store> {
  try {
    return await storeFromUrl(url);
  } catch (error) {
    if (error instanceof InvalidStoreUrlError) {
      throw new UsageError(`${option} ${url}: ${error.message}`);
    }
    throw error;
  }
}

function summary(
  report: MigrationSummary | MigrationReport,
  dryRun: boolean,
  elapsed: number,
): string {
  const time = `${(elapsed / 1000).toFixed(1)} s`;
  if (dryRun) {
    return (
      `Dry run in ${time}: ${report.migrated} image(s) would be copied (${formatBytes(report.bytes)}), ` +
      `${report.skipped} skipped, ${report.failed} failed. Nothing was written.`
    );
  }
  return (
    `Done in ${time}: ${report.migrated} migrated, ${report.skipped} skipped, ` +
    `${report.failed} failed, ${formatBytes(report.bytes)} copied.`
  );
}

function describeFailure(failure: MigrationImageError): string {
  const { image, cause } = failure;
  const code = cause instanceof ImageAttachError ? cause.code : (cause as { code?: string })?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return `${describeImage(image)}: ` + `${code === undefined ? '' : `${code} `}${message}`;
}
