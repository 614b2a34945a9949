/**
 * The `gc-range` job: `gc` over one part of the key space (see `gc-distributed.ts`), on the
 * worker's store, counting only (`collect: false`), its counts written to the range's row.
 * The range of the other files runs `recoverStagedFiles` first. While it runs it moves the
 * run's heartbeat on, so a long range keeps its run from being taken over. Idempotent: a done
 * range, or one of a run taken over, is a no-op, and a retried one counts again from zero
 * (what it removed before is simply gone).
 */
import { finishGcIfLast, gcTables } from '../gc-distributed.js';
import { gc, type GcKeySpace } from '../gc.js';
import { journalTableExists } from '../models/staged-journal.js';
import { recoverStagedFiles } from '../models/recover.js';
import type { JobKind } from './job-kinds.js';
import { WORKER_ID } from './running-key.js';

export interface GcRangeData {
  readonly run: string;
  readonly range: number;
}

/** How often a running range says it is alive (its row and the run's heartbeat). */
const HEARTBEAT_MS = 2000;

export const gcRangeJob: JobKind<GcRangeData> = {
  name: 'gc-range',
  async run(data, { sequelize, store }) {
    const tables = await gcTables(sequelize);
    const run = await tables.run.findByPk(data.run);
    if (run === null || run.get('state') !== 'running') return { ran: false };
    const where = { runId: data.run, rangeIndex: data.range };
    const found = await tables.range.findOne({ where });
    if (found === null || found.get('state') === 'done') return { ran: false };
    const row = found.get({ plain: true });
    const options = JSON.parse(row.options) as {
      gracePeriod?: number;
      delete: boolean;
      recover: boolean;
    };
    const keySpace: GcKeySpace =
      row.objectType !== null
        ? {
            objectType: row.objectType,
            ...(row.idPrefix === null ? {} : { idPrefix: row.idPrefix }),
          }
        : { otherThan: JSON.parse(row.otherThan ?? '[]') as string[] };

    const beat = async (state: 'running' | 'done', counts = {}) => {
      const now = new Date();
      await tables.range.update({ ...counts, state, worker: WORKER_ID, updatedAt: now }, { where });
      await tables.run.update({ heartbeatAt: now }, { where: { id: data.run, state: 'running' } });
    };
    await beat('running');
    let beating = Promise.resolve();
    const timer = setInterval(() => {
      beating = beating.then(() => beat('running')).catch(() => undefined);
    }, HEARTBEAT_MS);
    let counts;
    try {
      let recovered = 0;
      if (row.objectType === null && options.recover && (await journalTableExists(sequelize))) {
        const report = await recoverStagedFiles({ sequelize, store });
        recovered = report.recovered.length + report.removed.length;
      }
      const report = await gc({
        store,
        models: sequelize,
        keySpace,
        collect: false,
        delete: options.delete,
        ...(options.gracePeriod === undefined ? {} : { gracePeriod: options.gracePeriod }),
      });
      counts = { rows: report.rows, files: report.files, ...report.counts, recovered };
    } finally {
      clearInterval(timer);
      await beating;
    }
    await beat('done', counts);
    await finishGcIfLast(sequelize, data.run);
    return { ran: true, ...counts };
  },
};
