#!/usr/bin/env node
/**
 * The `sequelize-imageattach` command. Run from source with `npx tsx src/cli.ts …`.
 */
import { readFileSync } from 'node:fs';
import { commandNames, findCommand, mainUsage } from './cli/commands.js';
import { EXIT } from './cli/migrate-command.js';

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help') {
    process.stdout.write(`${mainUsage()}\n`);
    return EXIT.ok;
  }
  if (name === '-v' || name === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT.ok;
  }
  const command = name === undefined ? undefined : findCommand(name);
  if (command === undefined) {
    const problem =
      name === undefined
        ? `Name a command: ${commandNames()}.`
        : `Unknown command ${JSON.stringify(name)}; the commands are ${commandNames()}.`;
    process.stderr.write(`error: ${problem}\n\n${mainUsage()}\n`);
    return EXIT.usage;
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
    return await command.run(rest, {
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
