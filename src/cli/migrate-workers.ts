/**
 * `migrate --workers`: sends the migration to the workers (`plan.distribute`) and follows it,
 * drawing the progress of every worker's ranges from the database. The migration belongs to
 * the workers: Ctrl-C stops following it, not it.
 */
import type { Sequelize } from 'sequelize';
import type { DistributedMigrationStatus } from '../migration/distribute.js';
import type { MigrationPlan } from '../migration/plan.js';
import type { Store } from '../stores/store.js';
import type { MigrateArgs } from './args.js';
import type { CliIO } from './migrate-command.js';
import { ProgressReporter } from './progress.js';
import { withWorkerJobs } from './worker-command.js';

const POLL_MS = 500;

/** Runs `plan` on the workers; returns the exit status. */
export async function runOnWorkers(
  args: MigrateArgs,
  io: CliIO,
  sequelize: Sequelize,
  plan: MigrationPlan,
  destination: Store,
): Promise<number> {
  return withWorkerJobs(args.db, io, sequelize, destination, async (jobs) => {
    const migration = await plan.distribute(jobs, {
      from: args.from,
      to: args.to,
      ...(args.rangeSize === undefined ? {} : { rangeSize: args.rangeSize }),
    });
    const first = await migration.status();
    io.stderr.write(
      `Migration ${migration.id}: ${first.total} image(s) in ${first.ranges} range(s), sent to ` +
        'the workers (sequelize-imageattach worker).\n',
    );
    const reporter = new ProgressReporter(io.stderr);
    reporter.start(first.total, args.dryRun);
    let alive = -1;
    let final: DistributedMigrationStatus;
    try {
      final = await migration.wait({
        intervalMs: POLL_MS,
        signal: io.signal,
        onStatus: (status) => {
          if (status.workersAlive !== alive) {
            alive = status.workersAlive;
            io.stderr.write(`\nworkers alive: ${alive}\n`);
          }
          reporter.update(status);
        },
      });
    } catch (error) {
      if (io.signal?.aborted !== true) throw error;
      io.stderr.write(
        `\nStopped following migration ${migration.id}; it goes on in the workers. Run the ` +
          'same command again once it has finished to check that nothing is left.\n',
      );
      return 130;
    }
    reporter.finish(final);
    io.stdout.write(
      `Migration ${final.state}: ${final.migrated} migrated, ${final.skipped} skipped, ` +
        `${final.failed} failed, across ${final.ranges} range(s).\n`,
    );
    for (const message of final.errors) io.stderr.write(`  ${message}\n`);
    return final.state === 'finished' && final.failed === 0 ? 0 : 1;
  });
}
