/**
 * What a distributed migration and a distributed gc share: one run at a time (its row holds a
 * unique running key while it runs, with a heartbeat its workers and followers move, since the
 * run outlives the process that started it; a run whose heartbeat is older than `staleAfter` is
 * abandoned and its key taken), the workers alive on its ranges, and its end once the last
 * range is done.
 */
import { hostname } from 'node:os';
import {
  Op,
  UniqueConstraintError,
  type CreationAttributes,
  type Model,
  type ModelStatic,
} from 'sequelize';

interface RangeRow {
  state: string;
  worker: string | null;
  updatedAt: Date;
}

interface RunRow {
  runningKey: string | null;
  state: string;
  heartbeatAt: Date;
  finishedAt: Date | null;
}

/**
 * Inserts `row` (with `runningKey`), first abandoning a run of the same key whose heartbeat is
 * older than `staleAfter`; a run alive under the key makes it throw `refused(cause)`.
 */
export async function startRun<R extends RunRow>(
  table: ModelStatic<Model<R, R>>,
  row: R & { runningKey: string },
  staleAfter: number,
  refused: (cause: UniqueConstraintError) => Error,
): Promise<void> {
  const now = row.heartbeatAt;
  await table.update({ state: 'abandoned', runningKey: null, finishedAt: now } as Partial<R>, {
    where: {
      runningKey: row.runningKey,
      state: 'running',
      heartbeatAt: { [Op.lt]: new Date(now.getTime() - staleAfter) },
    } as never,
  });
  try {
    // The unique running key refuses a second start before any range is made.
    await table.create(row as CreationAttributes<Model<R, R>>);
  } catch (error) {
    if (!(error instanceof UniqueConstraintError)) throw error;
    throw refused(error);
  }
}

/** `host:pid`, as the ranges' `worker` column names the worker that last worked on a range. */
export const WORKER_ID = `${hostname()}:${process.pid}`;

/** A worker counts as alive while it wrote to one of its ranges this recently. */
export const ALIVE_MS = 5000;

/** The workers that wrote to one of the ranges `where` selects in the last {@link ALIVE_MS}. */
export function countWorkersAlive<R extends RangeRow>(
  ranges: ModelStatic<Model<R, R>>,
  where: Partial<R>,
): Promise<number> {
  return ranges.count({
    distinct: true,
    col: 'worker',
    where: {
      ...where,
      worker: { [Op.ne]: null },
      updatedAt: { [Op.gt]: new Date(Date.now() - ALIVE_MS) },
    } as never,
  });
}

/**
 * Ends the run `id` once none of its ranges (`where`) is pending or running; a no-op for
 * every worker but the last one.
 */
export async function finishRunIfLast<Run extends RunRow, R extends RangeRow>(
  runs: ModelStatic<Model<Run, Run>>,
  ranges: ModelStatic<Model<R, R>>,
  id: string,
  where: Partial<R>,
): Promise<void> {
  const left = await ranges.count({ where: { ...where, state: ['pending', 'running'] } as never });
  if (left > 0) return;
  await runs.update(
    { state: 'finished', runningKey: null, finishedAt: new Date() } as Partial<Run>,
    { where: { id, state: 'running' } as never },
  );
}
