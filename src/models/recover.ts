/**
 * `recoverStagedFiles`: finishes what a crash interrupted. A replacement of an image by one of
 * the same size and type writes its bytes to a staging key named with a random token, records
 * the token in the staged-file journal in the same transaction as the row, and copies the bytes
 * over the image's key only after the commit. A process killed between the COMMIT and the end
 * of that copy leaves a committed journal row and the new bytes staged. Run this at start-up,
 * before serving: the journal decides every staged file, never a clock.
 *
 * Each staged file (and each journal row) is decided in a short transaction, under its key's
 * lock (see `file-locks.ts`), which a writer holds from before it writes the staged file until
 * its COMMIT or ROLLBACK:
 *
 * - journal row present (committed) and staged file there: copied into place, row deleted;
 * - journal row present, staged file gone, the key's file there: the copy finished and only
 *   the row's delete was lost; the row is deleted. (With the key's file missing too the row
 *   may be another store's, and is left to `gc`.)
 * - no journal row: its write rolled back, died before its COMMIT, or its row was deleted
 *   since. With the lock held this is final, and the staged file is removed, unless it is
 *   younger than the grace period (by its modification time): a second guard, and the only
 *   one on dialects where no key lock is taken (see `file-locks.ts`).
 */
import { Sequelize } from 'sequelize';
import { InvalidOptionError } from '../errors.js';
import type { ImageKey } from '../stores/keys.js';
import { assertStore, type ListedFile, type Store } from '../stores/store.js';
import { inLockingTransaction, underKeyLock } from './file-locks.js';
import {
  deleteKey,
  moveStagedFile,
  parseStagingKey,
  stagingKeyOf,
  STAGED_PREFIX,
  type FileKey,
} from './staged-files.js';
import {
  assertJournalTable,
  deleteTokens,
  findToken,
  journalRows,
  type StagedJournalRow,
} from './staged-journal.js';

export interface RecoverStagedFilesOptions {
  /** The Sequelize whose models (those extending `Image`) own the images. */
  sequelize: Sequelize;
  /** The store to recover; it must support `listFiles()`. */
  store: Store;
  /**
   * Milliseconds after it was written (its modification time in the store) during which a
   * staged file with no committed journal row is kept anyway. Only a second guard where key
   * locks exist (PostgreSQL, SQLite); on other dialects make it longer than the longest
   * transaction that replaces images.
   * @default 3600000 (one hour)
   */
  gracePeriod?: number;
}

export interface RecoverStagedFilesReport {
  /** Staged files found. */
  found: number;
  /** Keys whose committed staged bytes were copied into place. */
  recovered: ImageKey[];
  /** Staged files of writes never committed (or whose row was deleted since): removed. */
  removed: ImageKey[];
  /** Staged files with no committed journal row, younger than the grace period: left alone. */
  kept: ImageKey[];
  /** Staged files (or journal rows) that could not be settled, and why; running again retries them. */
  failures: { file: ListedFile; error: unknown }[];
}

export const DEFAULT_STAGED_GRACE_PERIOD = 60 * 60 * 1000;

type Outcome = 'recovered' | 'done' | 'removed' | 'kept' | 'none';

/**
 * Puts the staged files of committed writes in place and removes those of writes that never
 * committed. Safe to run twice, and while the application runs: each file is settled under
 * its key's lock.
 * @throws {JournalTableMissingError} when the journal table is missing: create it with
 *   `createImageAttachTables(sequelize)`.
 *
 * @example
 * await recoverStagedFiles({ sequelize, store }); // at start-up, before app.listen()
 */
export async function recoverStagedFiles(
  options: RecoverStagedFilesOptions,
): Promise<RecoverStagedFilesReport> {
  const { sequelize, store, gracePeriod } = validate(options);
  // Looked for at every call: this is the start-up check of the upgrade.
  await assertJournalTable(sequelize, null, true);
  const report: RecoverStagedFilesReport = {
    found: 0,
    recovered: [],
    removed: [],
    kept: [],
    failures: [],
  };
  const cutoff = Date.now() - gracePeriod;
  const failed = new Set<string>();
  const settle = async (token: string, target: FileKey, file: ListedFile | undefined) => {
    const staging = stagingKeyOf(target, token);
    try {
      const outcome = await settleStaged(sequelize, store, token, target, file, cutoff);
      if (outcome === 'recovered') report.recovered.push(target);
      else if (outcome === 'removed') report.removed.push(staging);
      else if (outcome === 'kept') report.kept.push(staging);
    } catch (error) {
      failed.add(token);
      report.failures.push({ file: file ?? listedOf(staging), error });
    }
  };
  // Each staged file is settled as it is listed; nothing of the listing is kept.
  for await (const file of store.listFiles!({ objectTypePrefix: STAGED_PREFIX })) {
    // Temporary files of interrupted writes are gc's to remove.
    const parsed = file.temporary ? undefined : parseStagingKey(file.key);
    if (parsed === undefined) continue;
    report.found += 1;
    await settle(parsed.token, parsed.target, file);
  }
  // Read after the listing, a page at a time: a row committed since has its staged file
  // checked directly. Rows settled above are gone (or failed, and are not tried twice).
  for await (const row of journalRows(sequelize)) {
    if (!failed.has(row.token)) await settle(row.token, targetOf(row), undefined);
  }
  return report;
}

/** Decides one staged file (or journal row) under its key's lock. */
async function settleStaged(
  sequelize: Sequelize,
  store: Store,
  token: string,
  target: FileKey,
  file: ListedFile | undefined,
  cutoff: number,
): Promise<Outcome> {
  const staging = stagingKeyOf(target, token);
  return inLockingTransaction(sequelize, async (transaction) => {
    const decided = await underKeyLock(sequelize, transaction, target, async () => {
      const row = await findToken(sequelize, token, transaction);
      if (row !== undefined) {
        if (await moveStagedFile(store, staging, target, !row.original)) return 'recovered';
        return (await hasFile(store, target)) ? 'done' : 'none';
      }
      if (file === undefined) return 'none';
      if (file.modifiedAt.getTime() > cutoff) return 'kept';
      await deleteKey(store, staging);
      return 'removed';
    });
    // Out of the lock's savepoint, which is rolled back (see underKeyLock).
    if (decided === 'recovered' || decided === 'done') {
      await deleteTokens(sequelize, [token], transaction);
    }
    return decided satisfies Outcome;
  });
}

/**
 * Deletes the journal row of a staged write whose staged file is gone from `store` (its move
 * finished; the row's delete did not), checking again under the key's lock. Resolves whether
 * it was deleted.
 */
export async function deleteFinishedJournalRow(
  sequelize: Sequelize,
  store: Store,
  row: StagedJournalRow,
): Promise<boolean> {
  const target = targetOf(row);
  return inLockingTransaction(sequelize, async (transaction) => {
    const finished = await underKeyLock(sequelize, transaction, target, async () => {
      if ((await findToken(sequelize, row.token, transaction)) === undefined) return false;
      return !(await hasFile(store, stagingKeyOf(target, row.token)));
    });
    if (finished) await deleteTokens(sequelize, [row.token], transaction);
    return finished;
  });
}

export function targetOf(row: StagedJournalRow): FileKey {
  const { objectType, objectId, width, height, mimetype } = row;
  return { objectType, objectId: BigInt(objectId), width, height, mimetype };
}

/** A journal row's staged file that was not listed, described as a listing would (size 0). */
function listedOf(staging: FileKey): ListedFile {
  return {
    key: staging,
    name: staging.objectType,
    size: 0,
    temporary: false,
    modifiedAt: new Date(0),
  };
}

export async function hasFile(store: Store, key: FileKey): Promise<boolean> {
  const { objectType, objectId, width, height, mimetype } = key;
  if (typeof store.statFile === 'function') {
    return (await store.statFile(objectType, objectId, width, height, mimetype)) !== undefined;
  }
  try {
    (await store.getFile(objectType, objectId, width, height, mimetype)).destroy();
    return true;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ENOENT') return false;
    throw error;
  }
}

function validate(options: RecoverStagedFilesOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object with `sequelize` and `store`');
  }
  if (!(options.sequelize instanceof Sequelize)) {
    throw new InvalidOptionError('sequelize', 'must be a Sequelize instance');
  }
  assertStore(options.store, 'store');
  if (typeof options.store.listFiles !== 'function') {
    throw new InvalidOptionError(
      'store',
      `${options.store.constructor.name} cannot list its files (it has no listFiles())`,
    );
  }
  const gracePeriod = options.gracePeriod ?? DEFAULT_STAGED_GRACE_PERIOD;
  if (typeof gracePeriod !== 'number' || !Number.isFinite(gracePeriod) || gracePeriod < 0) {
    throw new InvalidOptionError('gracePeriod', 'must be a number of milliseconds, 0 or more');
  }
  return { sequelize: options.sequelize, store: options.store, gracePeriod };
}
