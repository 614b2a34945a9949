/**
 * The one table of the CLI's commands: `main` dispatches through it, and the usage and the
 * message for a missing or unknown command list it, so a new command is added here once.
 */
import { runGcCommand } from './gc-command.js';
import { runMigrateCommand, type CliIO } from './migrate-command.js';
import { runWorkerCommand } from './worker-command.js';

export interface CliCommand {
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** Runs the command on its arguments (those after its name); resolves to the exit status. */
  readonly run: (argv: readonly string[], io: CliIO) => Promise<number>;
}

export const COMMANDS: readonly CliCommand[] = [
  {
    name: 'migrate',
    summary: 'copy the file of every image row from one store to another',
    run: runMigrateCommand,
  },
  {
    name: 'gc',
    summary: 'list files no row owns and rows whose file is missing (--delete removes orphans)',
    run: runGcCommand,
  },
  {
    name: 'worker',
    summary: 'run the image jobs (thumbnails made later) on pg-boss until SIGTERM',
    run: runWorkerCommand,
  },
];

/** `migrate, gc`: every command, for messages. */
export function commandNames(): string {
  return COMMANDS.map((command) => command.name).join(', ');
}

export function findCommand(name: string): CliCommand | undefined {
  return COMMANDS.find((command) => command.name === name);
}

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: sequelize-imageattach <command> [options]

Commands:
${lines.join('\n')}

Run sequelize-imageattach <command> --help for a command's options.
  -h, --help      show this help
  -v, --version   show the version`;
}
