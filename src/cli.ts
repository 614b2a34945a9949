#!/usr/bin/env node
/**
 * The `sequelize-imageattach` command. Run from source with `npx tsx src/cli.ts …`.
 */
import { readFileSync } from 'node:fs';
import { parseCliArgs, USAGE, UsageError } from './cli/args.js';
import { runGcCommand } from './cli/gc-command.js';
import { EXIT, runMigrate } from './cli/migrate-command.js';

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'gc') {
    return runGcCommand(argv.slice(1), { stdout: process.stdout, stderr: process.stderr });
  }
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (args.command === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT.ok;
  }
  const controller = new AbortController();
  // The first Ctrl-C stops cleanly (copies in flight are abandoned, nothing half-written stays);
  // the handlers are `once`, so a second one kills at once.
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nStopping (${signal})…\n`);
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await runMigrate(args, {
      stdout: process.stdout,
      stderr: process.stderr,
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

process.exitCode = await main(process.argv.slice(2));
// Sockets an application module leaves open (pools, keep-alive agents) must not keep a finished
// run alive; the timer itself does not.
setTimeout(() => process.exit(), 2000).unref();
