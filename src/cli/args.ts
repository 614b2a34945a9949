/**
 * The command line: parsed with node:util's parseArgs, checked once, turned into options.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; strict: true; options: O }>
>;

export const MIGRATE_USAGE = `Usage:
  sequelize-imageattach migrate --from <store-url> --to <store-url> --models <module> [options]

Copies the file of every image row (originals and thumbnails) from one store to another.
Source files are never deleted and the database is never written.

Store URLs (a file: URL names an absolute path: file:///var/images, never file:var/images):
  file:///var/images?baseUrl=https://img.example.com/   files another server serves
  file:///var/images?prefix=images/                      files the app serves itself
  s3://bucket/prefix?region=eu-west-1                   S3 (credentials: the AWS SDK chain)
  s3://bucket?endpoint=http://127.0.0.1:7480&forcePathStyle=true   an S3-compatible server

Options:
  --models <module>     a module exporting the Sequelize instance with its models defined
                        (as \`sequelize\` or as the default export, or a function returning it)
  --db <url>            the database URL, set as DATABASE_URL before the module is loaded
                        (and passed to it when it exports a function)
  --concurrency <n>     images copied at once (default: 4 per core, between 4 and 16)
  --verify              check each copy's size and SHA-256 against what was read
  --verify-size         check each copy's size only
  --resume              skip images the destination already has with the same size, to
                        continue an interrupted run (with --verify, the checksums must match too)
  --dry-run             read and compare, but write nothing
  --fail-fast           stop at the first failed image
  --page-size <n>       rows read per database query (default: 500)
  --workers             run on the workers of \`sequelize-imageattach worker\` (PostgreSQL and
                        pg-boss; skips what is there, as with --resume): the rows are split
                        into key ranges, one job each, and this command shows the progress of
                        all of them. Ctrl-C stops following; the migration goes on.
  --range-size <n>      rows per job with --workers (default: 1000)
  -h, --help            show this help

It prints the stores and the database it works on before it copies anything.

Exit status: 0 when every image is in the destination, 1 when any failed (they are listed),
2 for a usage or configuration error, 130 when interrupted (Ctrl-C stops cleanly).`;

export interface MigrateArgs {
  command: 'migrate';
  from: string;
  to: string;
  models: string;
  db: string | undefined;
  concurrency: number | undefined;
  pageSize: number | undefined;
  verify: false | 'size' | 'checksum';
  resume: boolean;
  dryRun: boolean;
  failFast: boolean;
  workers: boolean;
  rangeSize: number | undefined;
}

export type CliArgs = MigrateArgs | { command: 'help' };

/** A mistake on the command line; the message says what to fix. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Each command's arguments, strictly: an unknown or malformed option is a `UsageError`. */
export function parseStrict<const O extends OptionsConfig>(
  argv: readonly string[],
  options: O,
): Parsed<O> {
  try {
    return parseArgs({ args: [...argv], strict: true, options });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Throws a `UsageError` naming the first of `names` missing or empty in `values`. */
export function requireOptions(values: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    if (values[name] === undefined || values[name] === '') {
      throw new UsageError(`--${name} is required.`);
    }
  }
}

/** The arguments of `migrate`, after the command's name. */
export function parseMigrateArgs(argv: readonly string[]): CliArgs {
  const { values } = parseStrict(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    models: { type: 'string' },
    db: { type: 'string' },
    concurrency: { type: 'string' },
    'page-size': { type: 'string' },
    verify: { type: 'boolean', default: false },
    'verify-size': { type: 'boolean', default: false },
    resume: { type: 'boolean', default: false },
    workers: { type: 'boolean', default: false },
    'range-size': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'fail-fast': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return { command: 'help' };
  requireOptions(values, ['from', 'to', 'models']);
  if (values.verify && values['verify-size'])
    throw new UsageError('Give --verify or --verify-size, not both.');
  return {
    command: 'migrate',
    from: values.from!,
    to: values.to!,
    models: values.models!,
    db: values.db,
    concurrency: positiveInteger('--concurrency', values.concurrency, 1024),
    pageSize: positiveInteger('--page-size', values['page-size'], 100_000),
    verify: values.verify ? 'checksum' : values['verify-size'] ? 'size' : false,
    resume: values.resume,
    workers: values.workers,
    rangeSize: positiveInteger('--range-size', values['range-size'], 1_000_000_000),
    dryRun: values['dry-run'],
    failFast: values['fail-fast'],
  };
}

export function positiveInteger(
  name: string,
  value: string | undefined,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > max) {
    throw new UsageError(
      `${name} must be a whole number from 1 to ${max}, not ${JSON.stringify(value)}.`,
    );
  }
  return number;
}
