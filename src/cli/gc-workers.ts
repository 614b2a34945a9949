/**
 * `gc --workers`: sends the gc's ranges to the workers (`distributeGc`) and follows them,
 * printing the ranges done, the workers alive and the counts summed from the database as they
 * change. The gc belongs to the workers: Ctrl-C stops following it, not it.
 */
import type { Sequelize } from 'sequelize';
import { distributeGc, type DistributedGcStatus } from '../gc-distributed.js';
import type { Store } from '../stores/store.js';
import type { GcArgs } from './gc-command.js';
import type { CliIO } from './migrate-command.js';
import { withWorkerJobs } from './worker-command.js';

const POLL_MS = 500;

/** Runs the gc on the workers; returns the exit status. */
export async function runGcOnWorkers(
  args: GcArgs,
  io: CliIO,
  sequelize: Sequelize,
  store: Store,
): Promise<number> {
  return withWorkerJobs(args.db, io, sequelize, store, async (jobs) => {
    const run = await distributeGc(jobs, {
      gracePeriod: args.gracePeriod,
      delete: args.delete,
      ...(args.rangeSize === undefined ? {} : { rangeSize: args.rangeSize }),
    });
    const first = await run.status();
    io.stderr.write(
      `gc ${run.id}: ${first.ranges} range(s), sent to the workers (sequelize-imageattach ` +
        'worker).\n',
    );
    let shown = '';
    let final: DistributedGcStatus;
    try {
      final = await run.wait({
        intervalMs: POLL_MS,
        signal: io.signal,
        onStatus: (status) => {
          const line = progressLine(status);
          if (line !== shown) io.stderr.write(`${line}\n`);
          shown = line;
        },
      });
    } catch (error) {
      if (io.signal?.aborted !== true) throw error;
      io.stderr.write(
        `Stopped following gc ${run.id}; it goes on in the workers, and a new start is ` +
          'refused until it ends.\n',
      );
      return 130;
    }
    io.stdout.write(
      args.json
        ? `${JSON.stringify(final, null, 2)}\n`
        : `gc ${final.state}: checked ${final.rows} row(s) and ${final.files} file(s) in ` +
            `${final.ranges} range(s); ${final.counts.orphans} orphan file(s)` +
            `${args.delete ? `, ${final.counts.deleted} removed` : ' (run with --delete to remove them)'}; ` +
            `${final.counts.recent} unowned file(s) within the grace period left alone; ` +
            `${final.counts.missing} row(s) whose file is missing; ${final.counts.unknown} unknown; ` +
            `${final.counts.deleteFailures} delete failure(s); ${final.recovered} staged file(s) ` +
            'recovered.\n',
    );
    const trouble = final.counts.missing + final.counts.unknown + final.counts.deleteFailures;
    return final.state === 'finished' && trouble === 0 ? 0 : 1;
  });
}

function progressLine(status: DistributedGcStatus): string {
  return (
    `ranges done ${status.rangesDone}/${status.ranges}, workers alive ${status.workersAlive}; ` +
    `${status.files} file(s), ${status.rows} row(s) checked; ${status.counts.orphans} orphan(s), ` +
    `${status.counts.missing} missing, ${status.counts.unknown} unknown`
  );
}
