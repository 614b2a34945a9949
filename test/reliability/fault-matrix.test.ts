/**
 * The fault matrix: every operation times every fault point, on SQLite and (with DATABASE_URL)
 * PostgreSQL. A fault before or at the commit must leave exactly the committed state (rows and
 * bytes) and no file behind; a failed delete after the commit may leave only the files of the
 * deleted rows, reported as orphan warnings. The invariant checker runs after every case.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { FileSystemStore, OrphanFileWarning } from '../../src/index.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { commitFaults, FaultStore, type CommitFaults } from '../support/fault-store.js';
import { checkInvariants, inspect, unchanged } from '../support/invariants.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';
import { STAGED_PREFIX } from '../../src/models/staged-files.js';
import { OPERATIONS } from './operations.js';

const BACKUP = '.imageattach-backup\0';
/** Copies the models keep while a transaction runs: backups, or staged replacements. */
const isCopy = (identity: string) =>
  identity.startsWith(BACKUP) || identity.startsWith(STAGED_PREFIX);
const notBackup = (key: { objectType: string }) => `${key.objectType}\0` !== BACKUP;

interface FaultPoint {
  readonly name: string;
  /** Whether the operation must fail when the fault fires. */
  readonly fails: boolean;
  arm(store: FaultStore, commits: CommitFaults): void;
  fired(store: FaultStore, commits: CommitFaults): boolean;
}

const FAULT_POINTS: readonly FaultPoint[] = [
  {
    name: 'store write fails',
    fails: true,
    arm: (store) => store.fail({ operation: 'putFile', match: notBackup }),
    fired: (store) => store.faults > 0,
  },
  {
    name: 'store write fails mid-stream',
    fails: true,
    arm: (store) => store.fail({ operation: 'putFile', match: notBackup, afterBytes: 100 }),
    fired: (store) => store.faults > 0,
  },
  {
    name: 'commit fails',
    fails: true,
    arm: (_store, commits) => commits.failNext(),
    fired: (_store, commits) => commits.refused > 0,
  },
  {
    name: 'post-commit delete fails',
    fails: false,
    arm: (store) => store.fail({ operation: 'deleteFile', times: Infinity }),
    fired: (store) => store.faults > 0,
  },
];

const tally = { cases: 0, fired: 0, failed: 0, orphansLeft: 0 };

describe.each(databaseKinds())('fault matrix on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let commits: CommitFaults;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
    commits = commitFaults(db.sequelize);
  });
  afterAll(async () => {
    commits.restore();
    await db.close();
  });

  describe.each(OPERATIONS.map((operation) => ({ operation, op: operation.name })))(
    '$op',
    ({ operation }) => {
      test.each(FAULT_POINTS.map((point) => ({ point, fault: point.name })))(
        'when the $fault',
        async ({ point }) => {
          await db.sequelize.sync({ force: true });
          const dir = await makeTempDir('fault-matrix');
          const warnings: OrphanFileWarning[] = [];
          const onWarning = (warning: Error) => {
            if (warning instanceof OrphanFileWarning) warnings.push(warning);
          };
          process.on('warning', onWarning);
          // Sequelize warns on a failed commit; the test asserts on the outcome instead.
          const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
          try {
            const store = new FaultStore(
              new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' }),
            );
            const run = await operation.setup(models, store);
            const before = await inspect(store, db.sequelize);
            expect(before.violations).toEqual([]);

            commits.reset();
            point.arm(store, commits);
            let outcome: { error: unknown } | { expect: Awaited<ReturnType<typeof run>> };
            try {
              outcome = { expect: await db.sequelize.transaction(run) };
            } catch (error) {
              outcome = { error };
            }
            const fired = point.fired(store, commits);
            store.clear();
            commits.reset();
            tally.cases += 1;
            if (fired) tally.fired += 1;

            if (fired && point.fails) {
              tally.failed += 1;
              expect('error' in outcome, 'the operation must fail').toBe(true);
              const { problems } = await checkInvariants(store, db.sequelize, {
                rows: unchanged(before),
              });
              expect(problems).toEqual([]);
              return;
            }
            if ('error' in outcome) throw outcome.error;
            const rows = outcome.expect(before);
            // Files of deleted rows may stay only when their delete failed (and backups of
            // replaced files, whose delete failed the same way).
            const gone = new Set([...before.rows.keys()].filter((identity) => !rows.has(identity)));
            const deleteFailed = fired && point.name === 'post-commit delete fails';
            await vi.waitFor(() => {
              if (deleteFailed) expect(warnings.length).toBeGreaterThan(0);
            });
            const { problems, state } = await checkInvariants(store, db.sequelize, {
              rows,
              orphans: (identity) => deleteFailed && (gone.has(identity) || isCopy(identity)),
            });
            expect(problems).toEqual([]);
            if (deleteFailed) {
              expect(state.orphans.filter((identity) => !isCopy(identity)).sort()).toEqual(
                [...gone].sort(),
              );
              tally.orphansLeft += state.orphans.length;
            }
          } finally {
            warn.mockRestore();
            process.off('warning', onWarning);
            await dir.remove();
          }
        },
      );
    },
  );
});

afterAll(() => {
  console.log(
    `fault matrix: ${tally.cases} cases, ${tally.fired} faults fired, ${tally.failed} ` +
      `operations failed with nothing changed, ${tally.orphansLeft} documented orphans, 0 losses`,
  );
});
