/**
 * Two replacements of one image within the same second, on the original's schema (`created_at`
 * keeps whole seconds, so both rows hold the same time), with the process SIGKILLed at each
 * point of the second one: before its COMMIT, right after it, after the bytes were moved into
 * place (before the staged copy and the journal row go), before the journal row's delete, and
 * after the whole call. After `recoverStagedFiles`, the row must serve exactly the bytes the
 * child saw committed, and no staged file or journal row may be left. A clock cannot tell these
 * two writes apart; the journal must.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createImageAttachTables,
  FileSystemStore,
  gc,
  recoverStagedFiles,
  type Store,
} from '../../src/index.js';
import { STAGED_PREFIX } from '../../src/models/staged-files.js';
import { stagedJournalModel } from '../../src/models/staged-journal.js';
import { jpeg } from '../fixtures/samples.js';
import { defineModels } from '../models/models.js';
import { sha256 } from '../support/invariants.js';
import { storedCreatedAt, useOriginalPictureTable } from '../support/original-schema.js';
import { makeTempDir } from '../support/temp-dir.js';
import { killedDatabaseKinds, type KilledDatabase } from './killed-databases.js';

const WORKER = fileURLToPath(new URL('./same-second-worker.ts', import.meta.url));

/** Where the child dies, and whether the second replacement is committed then. */
const KILLS = [
  { at: 'before-commit', secondCommitted: false },
  { at: 'after-commit', secondCommitted: true },
  { at: 'after-move', secondCommitted: true },
  { at: 'before-journal-delete', secondCommitted: true },
  { at: 'after-return', secondCommitted: true },
] as const;

const kinds = killedDatabaseKinds('same_second', 'SS');

function runChild(env: Record<string, string>) {
  return new Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stderr });
      });
    },
  );
}

async function readKey(store: Store, image: Parameters<Store['open']>[0]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.open(image)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.each(kinds)('two same-second replacements, killed, on $name', (kind) => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let db: KilledDatabase;
  let models: ReturnType<typeof defineModels>;

  beforeAll(async () => {
    dir = await makeTempDir('same-second');
    db = await kind.open(dir.path);
    models = defineModels(db.sequelize);
  });
  afterAll(async () => {
    await db.close();
    await dir.remove();
  });

  test.each(KILLS)(
    'killed $at: the row serves exactly its committed bytes',
    { timeout: 120_000 },
    async ({ at, secondCommitted }) => {
      const { sequelize } = db;
      // An application of the original's schema, upgraded with the one documented call.
      await sequelize.query('DROP TABLE IF EXISTS imageattach_staged_file');
      await sequelize.query('DROP TABLE IF EXISTS user_picture');
      await models.User.sync({ force: true });
      await useOriginalPictureTable(sequelize);
      await createImageAttachTables(sequelize);

      const store = new FileSystemStore({
        path: join(dir.path, `store-${at}`),
        baseUrl: 'http://x/',
      });
      const log = join(dir.path, `${at}.log`);
      const user = await models.User.create();
      const initial = (await jpeg(40, 40, 10)).bytes;
      await user.picture.fromBlob(initial, { store });

      const result = await runChild({
        ...db.env,
        SS_KILL: at,
        SS_USER: String(user.id),
        SS_STORE: store.path,
        SS_LOG: log,
      });
      expect(result.signal, result.stderr).toBe('SIGKILL');
      await db.settled();

      const lines = (await readFile(log, 'utf8')).trim().split('\n');
      const times = lines
        .filter((line) => line.startsWith('T '))
        .map((line) => Number(line.slice(2)));
      const commits = lines.filter((line) => line.startsWith('C ')).map((line) => line.slice(2));
      // Both writes fell within one second, and the column kept that second only.
      expect(times).toHaveLength(2);
      expect(Math.floor(times[1]! / 1000)).toBe(Math.floor(times[0]! / 1000));
      // The warm-up replacement, the first one, and the second one if it committed.
      expect(commits).toHaveLength(secondCommitted ? 3 : 2);
      const stored = await storedCreatedAt(sequelize, user.id);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatch(/:\d\d(\+00)?$/);

      const report = await recoverStagedFiles({ sequelize, store, gracePeriod: 0 });
      expect(report.failures).toEqual([]);

      // Exactly the bytes last committed, read from the store and through the library.
      const expected = commits.at(-1)!;
      const image = await user.picture.requireOriginal({ store });
      expect(sha256(await readKey(store, image))).toBe(expected);
      expect(sha256(await image.makeBlob({ store }))).toBe(expected);
      const after = await recoverStagedFiles({ sequelize, store, gracePeriod: 0 });
      expect(after).toEqual({ found: 0, recovered: [], removed: [], kept: [], failures: [] });
      expect(await stagedJournalModel(sequelize).count()).toBe(0);
      const found = await gc({ store, models: [models.UserPicture], gracePeriod: 0 });
      expect(found.staged).toEqual([]);
      expect(found.missing).toEqual([]);
      expect(found.journal).toEqual([]);
      const files = [];
      for await (const file of store.listFiles()) files.push(file.key.objectType);
      expect(files.filter((type) => type.startsWith(STAGED_PREFIX))).toEqual([]);
    },
  );
});
