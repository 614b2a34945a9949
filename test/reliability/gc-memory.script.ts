/**
 * Run by gc-memory.test.ts in a child process of its own: `gc` over a synthetic listing of
 * LISTED keys (generated, never held, in id order, which is not key order) against SQLite rows
 * for every fourth of them plus MISSING more, and prints the peak RSS growth.
 * Usage: node --import tsx gc-memory.script.ts setup|measure <tmpDir> <listed>; `setup` makes
 * the rows, in a process of its own so that its peak is not the one measured.
 */
import { join } from 'node:path';
import { DataTypes, Sequelize, type ModelStatic } from 'sequelize';
import {
  gc,
  Image,
  imageAttributes,
  type ListedFile,
  type StoredFileStat,
} from '../../src/index.js';
import { MemoryStore } from '../support/memory-store.js';

const [mode, tmpDir, listedText] = process.argv.slice(2) as [string, string, string];
const LISTED = Number(listedText);
const MISSING = 1000;
const OWNED_EVERY = 4;
const OLD = new Date(Date.now() - 7 * 24 * 60 * 60 * 1000);

/** A store whose listing is generated: ids 1…count, one 3x2 PNG each. */
class SyntheticStore extends MemoryStore {
  constructor(readonly count: number) {
    super('synthetic');
  }

  override async *listFiles(): AsyncGenerator<ListedFile> {
    for (let id = 1; id <= this.count; id += 1) {
      // A page of a real listing arrives at once; yield to the loop now and then as one would.
      if (id % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      yield {
        key: {
          objectType: 'synthetic',
          objectId: BigInt(id),
          width: 3,
          height: 2,
          mimetype: 'image/png',
        },
        name: `synthetic/${id}/3x2.png`,
        size: 100,
        modifiedAt: OLD,
        temporary: false,
      };
    }
  }

  override statFile(
    _objectType: string,
    objectId: bigint | number,
  ): Promise<StoredFileStat | undefined> {
    return Promise.resolve(BigInt(objectId) <= BigInt(this.count) ? { size: 100 } : undefined);
  }
}

const sequelize = new Sequelize({
  dialect: 'sqlite',
  storage: join(tmpDir, 'gc-memory.sqlite'),
  logging: false,
});
class Synthetic extends Image {}
Synthetic.init(
  {
    ownerId: { type: DataTypes.BIGINT, primaryKey: true, field: 'owner_id' },
    ...imageAttributes(),
  },
  { sequelize, tableName: 'synthetic' },
);
if (mode === 'setup') {
  await sequelize.sync();
  // Rows for every fourth listed key, and MISSING more beyond the listing.
  const ids: number[] = [];
  for (let id = OWNED_EVERY; id <= LISTED; id += OWNED_EVERY) ids.push(id);
  for (let i = 1; i <= MISSING; i += 1) ids.push(LISTED + i);
  await sequelize.transaction(async (transaction) => {
    for (let i = 0; i < ids.length; i += 500) {
      const values = ids
        .slice(i, i + 500)
        .map((id) => `(${id}, 3, 2, 'image/png', 1, '2020-01-01 00:00:00.000 +00:00')`)
        .join(',');
      await sequelize.query(
        `INSERT INTO synthetic (owner_id, width, height, mimetype, original, created_at) VALUES ${values}`,
        { transaction },
      );
    }
  });
  await sequelize.close();
  process.exit(0);
}
const models = [Synthetic as unknown as ModelStatic<Image>];

// Warm up: every module and code path once, on a small listing.
await gc({ store: new SyntheticStore(2000), models, collect: false, tmpDir });

const counts = { orphans: 0, missing: 0 };
const baseline = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
const report = await gc({
  store: new SyntheticStore(LISTED),
  models,
  collect: false,
  tmpDir,
  onFinding: (finding) => {
    if (finding.kind === 'orphan') counts.orphans += 1;
    if (finding.kind === 'missing') counts.missing += 1;
  },
});
const cpu = process.cpuUsage(cpuBefore);
const peak = process.resourceUsage().maxRSS * 1024;
await sequelize.close();
process.stdout.write(
  JSON.stringify({
    files: report.files,
    rows: report.rows,
    orphans: report.counts.orphans,
    missing: report.counts.missing,
    seenOrphans: counts.orphans,
    seenMissing: counts.missing,
    listedOrphans: report.orphans.length,
    expectedOrphans: LISTED - Math.floor(LISTED / OWNED_EVERY),
    expectedMissing: MISSING,
    expectedRows: Math.floor(LISTED / OWNED_EVERY) + MISSING,
    baselineRss: baseline,
    peakRss: peak,
    growth: peak - baseline,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }) + '\n',
);
