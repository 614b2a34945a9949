/**
 * The fault matrix: every operation times every fault point, on SQLite and (with DATABASE_URL)
 * PostgreSQL. A fault before or at the commit must leave exactly the committed state (rows and
 * bytes) and no file behind; a failed delete after the commit may leave only the files of the
 * deleted rows, reported as orphan warnings. A commit that is made but reported failed (its
 * answer lost) may leave the same, never a row without its bytes once `recoverStagedFiles` has
 * run. The invariant checker runs after every case; `gc` removes exactly what was left.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { FileSystemStore, gc, OrphanFileWarning, recoverStagedFiles } from '../../src/index.js';
import { fileIdentity } from '../../src/stores/keys.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { commitFaults, FaultStore, type CommitFaults } from '../support/fault-store.js';
import { checkInvariants, inspect, unchanged } from '../support/invariants.js';
import { s3StoreFixture } from '../support/s3.js';
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
  /**
   * What the caller sees when the fault fires: a failure that changed nothing, success (files
   * of deleted rows may stay), a failure although the database committed (the work after the
   * commit is left to `recoverStagedFiles` and `gc`), or, for a fault that may hit before or
   * after the commit, either a failure that changed nothing or a success completed by
   * `recoverStagedFiles`.
   */
  readonly outcome: 'fails' | 'succeeds' | 'fails-but-committed' | 'fails-or-recovers';
  arm(store: FaultStore, commits: CommitFaults): void;
  fired(store: FaultStore, commits: CommitFaults): boolean;
}

const FAULT_POINTS: readonly FaultPoint[] = [
  {
    name: 'store write fails',
    outcome: 'fails',
    arm: (store) => store.fail({ operation: 'putFile', match: notBackup }),
    fired: (store) => store.faults > 0,
  },
  {
    name: 'store write fails mid-stream',
    outcome: 'fails',
    arm: (store) => store.fail({ operation: 'putFile', match: notBackup, afterBytes: 100 }),
    fired: (store) => store.faults > 0,
  },
  {
    // A stream that errors after 100 bytes must fail the render, not make half a thumbnail.
    // Reads of images (a thumbnail's original), not of the staged copies moved after a commit.
    name: 'store read fails mid-stream',
    outcome: 'fails-or-recovers',
    arm: (store) =>
      store.fail({
        operation: 'getFile',
        match: (key) => notBackup(key) && !key.objectType.startsWith(STAGED_PREFIX),
        afterBytes: 100,
      }),
    fired: (store) => store.faults > 0,
  },
  {
    name: 'commit fails',
    outcome: 'fails',
    arm: (_store, commits) => commits.failNext(),
    fired: (_store, commits) => commits.refused > 0,
  },
  {
    name: 'commit is made but its answer is lost',
    outcome: 'fails-but-committed',
    arm: (_store, commits) => commits.failNext(1, 'lose-ack'),
    fired: (_store, commits) => commits.refused > 0,
  },
  {
    name: 'post-commit delete fails',
    outcome: 'succeeds',
    arm: (store) => store.fail({ operation: 'deleteFile', times: Infinity }),
    fired: (store) => store.faults > 0,
  },
];

const tally = { cases: 0, fired: 0, failed: 0, unacknowledged: 0, orphansLeft: 0 };

/** The real stores the faults are injected in front of. */
const STORES = [
  {
    name: 'file system',
    async open() {
      const dir = await makeTempDir('fault-matrix');
      const store = new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' });
      return { store, cleanup: dir.remove };
    },
  },
  { name: 'S3', open: () => s3StoreFixture() },
];

const CASES = databaseKinds().flatMap((database) =>
  STORES.map((storeKind) => ({
    database,
    storeKind,
    name: `${database.name} and ${storeKind.name}`,
  })),
);

describe.each(CASES)('fault matrix on $name', ({ database: kind, storeKind }) => {
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
          const real = await storeKind.open();
          const warnings: OrphanFileWarning[] = [];
          const onWarning = (warning: Error) => {
            if (warning instanceof OrphanFileWarning) warnings.push(warning);
          };
          process.on('warning', onWarning);
          // Sequelize warns on a failed commit; the test asserts on the outcome instead.
          const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
          try {
            const store = new FaultStore(real.store);
            const run = await operation.setup(models, store);
            const before = await inspect(store, db.sequelize);
            expect(before.violations).toEqual([]);

            commits.reset();
            point.arm(store, commits);
            let expectAfter: Awaited<ReturnType<typeof run>> | undefined;
            let error: unknown;
            try {
              await db.sequelize.transaction(async (transaction) => {
                expectAfter = await run(transaction);
              });
            } catch (caught) {
              error = caught ?? new Error('rejected');
            }
            const fired = point.fired(store, commits);
            store.clear();
            if (fired && point.outcome === 'fails-but-committed') tally.unacknowledged += 1;
            commits.reset();
            tally.cases += 1;
            if (fired) tally.fired += 1;

            const outcome = !fired
              ? 'succeeds'
              : point.outcome !== 'fails-or-recovers'
                ? point.outcome
                : error === undefined
                  ? 'recovers'
                  : 'fails';
            if (outcome === 'fails') {
              tally.failed += 1;
              expect(error, 'the operation must fail').toBeDefined();
              const { problems } = await checkInvariants(store, db.sequelize, {
                rows: unchanged(before),
              });
              expect(problems).toEqual([]);
              return;
            }
            if (outcome === 'succeeds' && error !== undefined) expect.fail(`${error as Error}`);
            expect(error === undefined, 'fails exactly when the answer is lost').toBe(
              outcome !== 'fails-but-committed',
            );
            if (outcome === 'fails-but-committed' || outcome === 'recovers') {
              // What a restarting application runs first.
              const recovery = await recoverStagedFiles({
                sequelize: db.sequelize,
                store,
                gracePeriod: 0,
              });
              expect(recovery.failures).toEqual([]);
            }
            const rows = expectAfter!(before);
            // Files of deleted rows may stay only when their delete failed (and backups of
            // replaced files, whose delete failed the same way).
            const gone = new Set([...before.rows.keys()].filter((identity) => !rows.has(identity)));
            const deleteFailed = fired && point.name === 'post-commit delete fails';
            const leftOver =
              deleteFailed || outcome === 'fails-but-committed' || outcome === 'recovers';
            await vi.waitFor(() => {
              if (deleteFailed) expect(warnings.length).toBeGreaterThan(0);
            });
            const { problems, state } = await checkInvariants(store, db.sequelize, {
              rows,
              orphans: (identity) => leftOver && (gone.has(identity) || isCopy(identity)),
            });
            expect(problems).toEqual([]);
            if (deleteFailed) {
              expect(state.orphans.filter((identity) => !isCopy(identity)).sort()).toEqual(
                [...gone].sort(),
              );
            }
            if (leftOver) {
              // Recovery settles staged copies; gc finds exactly the rest, and removes it.
              await recoverStagedFiles({ sequelize: db.sequelize, store, gracePeriod: 0 });
              const swept = await gc({ store, models: db.sequelize, gracePeriod: 0, delete: true });
              expect(swept.deleted.map((file) => fileIdentity(file.key)).sort()).toEqual(
                state.orphans.filter((identity) => !identity.startsWith(STAGED_PREFIX)),
              );
              expect(swept.missing).toEqual([]);
              const after = await checkInvariants(store, db.sequelize, { rows });
              expect(after.problems).toEqual([]);
              tally.orphansLeft += state.orphans.length;
            }
          } finally {
            warn.mockRestore();
            process.off('warning', onWarning);
            await real.cleanup();
          }
        },
      );
    },
  );
});

afterAll(() => {
  console.log(
    `fault matrix: ${tally.cases} cases, ${tally.fired} faults fired, ${tally.failed} ` +
      `operations failed with nothing changed, ${tally.unacknowledged} commits made but reported ` +
      `failed, ${tally.orphansLeft} documented orphans (all removed by gc), 0 losses`,
  );
});
