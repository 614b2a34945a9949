/**
 * `sequelize-imageattach gc`: a thin wrapper over `gc()` that prints what it found (and, with
 * `--delete`, removed) and turns the outcome into an exit status.
 */
import type { Sequelize } from 'sequelize';
import { ImageAttachError, InvalidOptionError, InvalidStoreUrlError } from '../errors.js';
import { gc, type GcImage, type GcReport } from '../gc.js';
import { imageModelsOf } from '../migration/migrate.js';
import { STAGED_JOURNAL_TABLE } from '../models/staged-journal.js';
import { storeFromUrl } from '../stores/store-url.js';
import type { Store } from '../stores/store.js';
import { parseStrict, positiveInteger, requireOptions, UsageError } from './args.js';
import { runGcOnWorkers } from './gc-workers.js';
import { describeDatabase, describeImage, describeStore } from './describe-target.js';
import { loadSequelize } from './load-models.js';
import type { CliIO } from './migrate-command.js';

export const GC_USAGE = `Usage:
  sequelize-imageattach gc --store <store-url> --models <module> [options]

Compares a store with the image rows of the database. Lists the files no row owns that are
older than the grace period (orphans, left by crashes and failed deletes) and the rows whose
file is missing. Rows are never changed; files only with --delete. A file the store could not
check is reported as unknown, never as missing. Staged files are left to recoverStagedFiles().

Options:
  --store <store-url>   the store (file:///absolute/path or s3://…, as for migrate)
  --models <module>     a module exporting the Sequelize instance with its models defined
  --db <url>            the database URL, set as DATABASE_URL before the module is loaded
  --grace <duration>    how old an unowned file must be to be an orphan: 0, or a number with
                        ms, s, m, h or d (default: 1d). Longer than your longest transaction.
  --delete              remove the orphans found
  --workers             run on the workers of \`sequelize-imageattach worker\` (PostgreSQL and
                        pg-boss; --db is pg-boss's database too): one job per object type, or
                        per range of ids past --range-size rows, and one for every other file
                        (recoverStagedFiles first). Prints the ranges done, the workers alive
                        and the counts as they come; Ctrl-C stops following, not the gc. One
                        such gc of a store runs at a time.
  --range-size <n>      rows of one object type past which --workers splits it by the leading
                        digits of its ids (default: 100000)
  --json                print the report as JSON
  -h, --help            show this help

It prints the store and the database it works on before it lists or removes anything.

Exit status: 0 when every row has its file (and every orphan asked to go went), 1 when a row's
file is missing or unknown or a delete failed (or, with --workers, another gc of the store
runs), 2 for a usage or configuration error, 130 when interrupted (with --workers, the gc goes
on in the workers).`;

export interface GcArgs {
  store: string;
  models: string;
  db: string | undefined;
  gracePeriod: number;
  delete: boolean;
  workers: boolean;
  rangeSize: number | undefined;
  json: boolean;
  help: boolean;
}

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `0`, `500ms`, `30s`, `15m`, `12h`, `1.5d` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const amount = Number(match?.[1]);
  if (match === null || (match[2] === undefined && amount !== 0)) {
    throw new UsageError(
      `--grace must be 0 or a number with a unit (ms, s, m, h, d), such as 1d or 12h; not ${JSON.stringify(text)}.`,
    );
  }
  return Math.round(amount * (UNITS[match[2] ?? 'ms'] ?? 1));
}

export function parseGcArgs(argv: readonly string[]): GcArgs {
  const { values } = parseStrict(argv, {
    store: { type: 'string' },
    models: { type: 'string' },
    db: { type: 'string' },
    grace: { type: 'string' },
    delete: { type: 'boolean', default: false },
    workers: { type: 'boolean', default: false },
    'range-size': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (!values.help) {
    requireOptions(values, ['store', 'models']);
    if (values['range-size'] !== undefined && !values.workers) {
      throw new UsageError('--range-size is for --workers.');
    }
  }
  return {
    store: values.store ?? '',
    models: values.models ?? '',
    db: values.db,
    gracePeriod: values.grace === undefined ? 86_400_000 : parseDuration(values.grace),
    delete: values.delete,
    workers: values.workers,
    rangeSize: positiveInteger('--range-size', values['range-size'], 1_000_000_000),
    json: values.json,
    help: values.help,
  };
}

/** Runs `gc` for the command line; returns the exit status. */
export async function runGcCommand(argv: readonly string[], io: CliIO): Promise<number> {
  let store: Store | undefined;
  let sequelize: Sequelize | undefined;
  try {
    const args = parseGcArgs(argv);
    if (args.help) {
      io.stdout.write(`${GC_USAGE}\n`);
      return 0;
    }
    store = await storeFromUrl(args.store);
    sequelize = await loadSequelize(args.models, args.db);
    if (imageModelsOf(sequelize).length === 0) {
      throw new UsageError(
        `--models ${args.models}: no model of its Sequelize instance extends Image.`,
      );
    }
    // Before anything is removed: which folder or bucket, which database.
    // The image rows are only read; what else of the database changes is said too.
    const writes = [
      ...(args.delete ? [`stale rows of ${STAGED_JOURNAL_TABLE} removed`] : []),
      ...(args.workers ? ['the run recorded in imageattach_gc'] : []),
    ];
    io.stderr.write(
      `${args.delete ? 'Removing orphans from' : 'Checking (nothing is removed)'} ` +
        `${describeStore(store)}, against the image rows of ${describeDatabase(sequelize)} ` +
        `(read only${writes.map((write) => `; ${write}`).join('')})` +
        `${args.workers ? ', on the workers' : ''}.\n`,
    );
    if (args.workers) return await runGcOnWorkers(args, io, sequelize, store);
    const report = await gc({
      store,
      models: sequelize,
      gracePeriod: args.gracePeriod,
      delete: args.delete,
    });
    io.stdout.write(args.json ? `${toJson(report)}\n` : describeReport(report, args.delete));
    const trouble = report.missing.length + report.unknown.length + report.deleteFailures.length;
    return trouble === 0 ? 0 : 1;
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof InvalidStoreUrlError ||
      error instanceof InvalidOptionError
    ) {
      io.stderr.write(`error: ${error.message}\n\n${GC_USAGE}\n`);
      return 2;
    }
    const code = error instanceof ImageAttachError ? ` (${error.code})` : '';
    io.stderr.write(`error${code}: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  } finally {
    await sequelize?.close().catch(() => undefined);
    // S3Store keeps sockets open until destroyed.
    const closable = store as unknown as { destroy?: () => void } | undefined;
    closable?.destroy?.();
  }
}

/** The model's name first: two models may share an object type. */
function describeGcImage(image: GcImage): string {
  return `${image.model} ${describeImage(image)}`;
}

function describeReport(report: GcReport, deleting: boolean): string {
  const lines = [
    `Checked ${report.rows} row(s) and ${report.files} file(s).`,
    `${report.orphans.length} orphan file(s)${deleting ? `, ${report.deleted.length} removed` : ' (run with --delete to remove them)'}; ` +
      `${report.recent.length} unowned file(s) within the grace period left alone; ` +
      `${report.staged.length} staged file(s) left to recoverStagedFiles.`,
  ];
  for (const file of report.orphans) lines.push(`  orphan ${file.name} (${file.size} bytes)`);
  for (const { file, error } of report.deleteFailures) {
    lines.push(`  could not remove ${file.name}: ${(error as Error).message ?? String(error)}`);
  }
  lines.push(`${report.missing.length} row(s) whose file is missing.`);
  for (const image of report.missing) lines.push(`  missing ${describeGcImage(image)}`);
  if (report.unknown.length > 0) {
    lines.push(`${report.unknown.length} row(s) whose file could not be checked (unknown):`);
    for (const { image, error } of report.unknown) {
      lines.push(
        `  unknown ${describeGcImage(image)}: ${(error as Error).message ?? String(error)}`,
      );
    }
  }
  if (report.journal.length > 0) {
    lines.push(
      `${report.journal.length} staged-file journal row(s) whose staged file is gone` +
        (deleting
          ? `, ${report.journalDeleted.length} removed.`
          : ' (run with --delete to remove them).'),
    );
  }
  return `${lines.join('\n')}\n`;
}

function toJson(report: GcReport): string {
  return JSON.stringify(
    {
      ...report,
      unknown: report.unknown.map(({ image, error }) => ({ image, error: String(error) })),
      deleteFailures: report.deleteFailures.map(({ file, error }) => ({
        file,
        error: String(error),
      })),
    },
    (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    2,
  );
}
