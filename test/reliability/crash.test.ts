/**
 * The crash test: a child process runs a seeded random stream of image operations and is
 * killed with SIGKILL, by this process at a random moment or by itself at a seeded step. The
 * image table is the original's (`created_at` keeps whole seconds) and the stream replaces
 * images twice within one second. After every kill the invariant checker runs: orphans may be
 * left, never a row without its file, and every original holds the bytes last committed for it
 * (or, when the kill fell during a COMMIT, those of that COMMIT). Then `gc` must find exactly
 * the orphans (temporary files of interrupted writes included) and remove them.
 *
 * Replay a run with RELIABILITY_SEED; run longer with RELIABILITY_ITERATIONS.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FileSystemStore, gc, recoverStagedFiles } from '../../src/index.js';
import { checkInvariants } from '../support/invariants.js';
import { useOriginalPictureTable } from '../support/original-schema.js';
import { makeTempDir } from '../support/temp-dir.js';
import { killedDatabaseKinds } from './killed-databases.js';
import { defineModels } from '../models/models.js';
import { iterations, random } from './random.js';

const WORKER = fileURLToPath(new URL('./crash-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASE_SEED = Number(process.env.RELIABILITY_SEED ?? '20261127');

const kinds = killedDatabaseKinds('crash', 'CRASH');
/** Where self-kills land (see crash-worker.ts); `any` is any step at all. */
const STEP_KINDS = ['any', 'put', 'chunk', 'delete', 'before-commit', 'after-commit'] as const;

/**
 * At least 50 kills per run, shared by the databases; CRASH_KILLS sets the kills of each
 * database instead (e.g. 52 to give one database 50 on its own).
 */
const KILLS = process.env.CRASH_KILLS
  ? Number(process.env.CRASH_KILLS)
  : Math.ceil((52 * iterations()) / kinds.length);

/**
 * How to start the worker: bundled once with esbuild (there when tsx is), which starts in half
 * the time of compiling it through tsx at every one of the many starts; else through tsx.
 */
const worker = { args: ['--import', 'tsx', WORKER], remove: async () => {} };
beforeAll(async () => {
  let esbuild: typeof Esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return;
  }
  // Inside the project, so that the bundle resolves the packages in node_modules.
  const out = await mkdtemp(join(ROOT, 'node_modules', '.cache-imageattach-crash-'));
  await esbuild.build({
    entryPoints: [WORKER],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    target: 'node20',
    outfile: join(out, 'crash-worker.mjs'),
    logLevel: 'error',
  });
  worker.args = [join(out, 'crash-worker.mjs')];
  worker.remove = () => rm(out, { recursive: true, force: true });
});
afterAll(() => worker.remove());

/** Runs one child until it dies: it kills itself at `killAt` (`kind:n`), or we do after `delay`. */
function runChild(env: Record<string, string>, killAt: string, delay: number) {
  return new Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, worker.args, {
        env: { ...process.env, ...env, CRASH_KILL_AT: killAt },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      const timers: NodeJS.Timeout[] = [];
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => {
        if (!chunk.toString().includes('ready')) return;
        if (killAt === '') timers.push(setTimeout(() => child.kill('SIGKILL'), delay));
        // A self-kill step the stream never reaches: kill it from outside instead.
        timers.push(setTimeout(() => child.kill('SIGKILL'), 30_000));
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        for (const timer of timers) clearTimeout(timer);
        resolve({ code, signal, stderr });
      });
    },
  );
}

const tally = {
  kills: 0,
  selfKills: 0,
  rows: 0,
  recovered: 0,
  orphans: 0,
  temporary: 0,
  removed: 0,
};

describe.each(kinds)('crashes on $name', (kind) => {
  test(
    `${KILLS} kills: never a row without its file, and gc removes exactly the orphans`,
    {
      // About 5 s a kill on a loaded machine; never less than ten minutes.
      timeout: Math.max(600_000, KILLS * 15_000) * Math.max(1, iterations()),
    },
    async () => {
      const dir = await makeTempDir('crash');
      const db = await kind.open(dir.path);
      try {
        defineModels(db.sequelize);
        await db.sequelize.sync({ force: true });
        await useOriginalPictureTable(db.sequelize);
        const store = new FileSystemStore({ path: join(dir.path, 'store'), baseUrl: 'http://x/' });
        const log = join(dir.path, 'written.log');
        for (let i = 0; i < KILLS; i += 1) {
          const seed = BASE_SEED + i;
          const rng = random(seed ^ 0x5eed);
          const selfKill = i % 2 === 0;
          const kind = rng.pick(STEP_KINDS)!;
          const killAt = selfKill ? `${kind}:${1 + rng.int(kind === 'any' ? 400 : 12)}` : '';
          const result = await runChild(
            { ...db.env, CRASH_SEED: String(seed), CRASH_STORE: store.path, CRASH_LOG: log },
            killAt,
            50 + rng.int(700),
          );
          const context = `seed ${seed} (kill ${i + 1}, ${selfKill ? `self at step ${killAt}` : 'from outside'})`;
          expect(result.signal, `${context}: ${result.stderr}`).toBe('SIGKILL');
          tally.kills += 1;
          if (selfKill) tally.selfKills += 1;
          await db.settled();

          // What a restarting application runs first (see recoverStagedFiles).
          const recovery = await recoverStagedFiles({
            sequelize: db.sequelize,
            store,
            gracePeriod: 0,
          });
          expect(recovery.failures, context).toEqual([]);
          tally.recovered += recovery.recovered.length;

          const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n');
          // Per key: the bytes last committed, and those of a COMMIT the kill cut short.
          const committed = new Map<string, string>();
          const uncertain = new Map<string, string>();
          for (const line of lines) {
            const [mark, hex, sha] = line.split(' ');
            if (hex === undefined || sha === undefined) continue;
            if (mark === 'P') uncertain.set(hex, sha);
            if (mark === 'C') {
              committed.set(hex, sha);
              uncertain.delete(hex);
            }
          }
          const { problems, state } = await checkInvariants(store, db.sequelize, {
            orphans: 'any',
            temporary: true,
          });
          for (const row of state.rows.values()) {
            if (!row.original) continue;
            const hex = Buffer.from(row.identity).toString('hex');
            const allowed = [committed.get(hex), uncertain.get(hex)];
            if (row.sha256 === undefined || !allowed.includes(row.sha256)) {
              problems.push(`${row.identity}: not the bytes committed for this row`);
            }
          }
          expect(problems, context).toEqual([]);
          tally.rows += state.rows.size;

          const found = await gc({ store, models: db.sequelize, gracePeriod: 0 });
          expect(found.missing, context).toEqual([]);
          expect(found.unknown, context).toEqual([]);
          expect(found.staged, context).toEqual([]);
          const names = (files: { name: string }[]) => files.map((file) => file.name).sort();
          const orphanFiles = state.orphans.map((identity) => state.files.get(identity)!);
          expect(names(found.orphans), context).toEqual(
            names([...orphanFiles, ...state.temporary]),
          );
          const removed = await gc({ store, models: db.sequelize, gracePeriod: 0, delete: true });
          expect(names(removed.deleted), context).toEqual(names(found.orphans));
          const after = await checkInvariants(store, db.sequelize);
          expect(after.problems, context).toEqual([]);
          tally.orphans += state.orphans.length;
          tally.temporary += state.temporary.length;
          tally.removed += removed.deleted.length;
        }
      } finally {
        await db.close();
        await dir.remove();
      }
    },
  );
});

afterAll(() => {
  console.log(
    `crash test: ${tally.kills} kills (${tally.selfKills} at seeded steps), ${tally.rows} rows ` +
      `checked, ${tally.recovered} staged files recovered, ${tally.orphans} orphan files and ${tally.temporary} temporary files left by ` +
      `the crashes, ${tally.removed} removed by gc, 0 rows without their file`,
  );
});
