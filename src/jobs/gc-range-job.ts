/**
 * The `gc-range` job: `gc` over one part of the key space (see `gc-distributed.ts`), on the
 * worker's store, counting only (`collect: false`), its counts written to the range's row.
 * The range of the other files runs `recoverStagedFiles` first. Idempotent: a done range is a
 * no-op, and a retried one counts again from zero (what it removed before is simply gone).
 */
import { gc, type GcKeySpace } from '../gc.js';
import { gcRangeTable } from '../gc-distributed.js';
import { journalTableExists } from '../models/staged-journal.js';
import { recoverStagedFiles } from '../models/recover.js';
import type { JobKind } from './job-kinds.js';

export interface GcRangeData {
  readonly run: string;
  readonly range: number;
}

export const gcRangeJob: JobKind<GcRangeData> = {
  name: 'gc-range',
  async run(data, { sequelize, store }) {
    const table = await gcRangeTable(sequelize);
    const where = { runId: data.run, rangeIndex: data.range };
    const found = await table.findOne({ where });
    if (found === null || found.get('state') === 'done') return { ran: false };
    const row = found.get({ plain: true });
    const options = JSON.parse(row.options) as {
      gracePeriod?: number;
      delete: boolean;
      recover: boolean;
    };
    const keySpace: GcKeySpace =
      row.objectType !== null
        ? { objectType: row.objectType }
        : { otherThan: JSON.parse(row.otherThan ?? '[]') as string[] };
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
    const counts = { rows: report.rows, files: report.files, ...report.counts, recovered };
    await table.update({ ...counts, state: 'done', updatedAt: new Date() }, { where });
    return { ran: true, ...counts };
  },
};
