/**
 * One run at a time of a job spread over workers (a distributed migration, a distributed gc):
 * its row holds a unique running key while it runs, with a heartbeat its workers and followers
 * move, since the run outlives the process that started it. A run whose heartbeat is older
 * than `staleAfter` is abandoned, and its key taken.
 */
import {
  Op,
  UniqueConstraintError,
  type CreationAttributes,
  type Model,
  type ModelStatic,
} from 'sequelize';

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
