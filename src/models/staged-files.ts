/**
 * Staging keys, and the work that settles a key once its transaction is over: delete the file
 * of a deleted row unless a committed row owns the key again, and move a staged write into
 * place when its journal row (see `staged-journal.ts`) is committed. The same steps serve the
 * end of a transaction and `recoverStagedFiles` after a crash; every step is safe to repeat.
 */
import type { Readable } from 'node:stream';
import type { Model, ModelStatic, Sequelize, Transaction, WhereOptions } from 'sequelize';
import { OrphanFileWarning } from '../errors.js';
import { describeKey, type ImageKey } from '../stores/keys.js';
import type { Store } from '../stores/store.js';
import { inLockingTransaction, locksOutliveSavepoints, underKeyLock } from './file-locks.js';
import {
  deleteTokens,
  findToken,
  isToken,
  journalTableExists,
  tokensOfKey,
} from './staged-journal.js';

/** The identity of a stored file, copied out of an image when it is journalled. */
export interface FileKey {
  readonly objectType: string;
  readonly objectId: bigint;
  readonly width: number;
  readonly height: number;
  readonly mimetype: string;
}

/** A row as the settling steps look it up again: its primary key values and mimetype. */
export interface RowRef {
  readonly model: ModelStatic<Model>;
  readonly where: Readonly<Record<string, unknown>>;
}

/**
 * Object types of staged files start with this. The dot keeps them apart from every
 * table-derived type, and out of what a file-system store's folder serves (dotfiles are never
 * served); on S3 they are a prefix of their own.
 */
export const STAGED_PREFIX = '.imageattach-staged~';

/**
 * `.imageattach-staged~<objectType>~<token>`: one path segment, same id, size and type. The
 * token is the write's journal row: the name alone finds out whether the write committed.
 */
export function stagingKeyOf(key: FileKey, token: string): FileKey {
  return { ...key, objectType: `${STAGED_PREFIX}${key.objectType}~${token}` };
}

/**
 * The key a staged file is meant for and its write's token, or `undefined` for anything else
 * (staged files of versions before the journal, named `~<milliseconds>`, included).
 */
export function parseStagingKey(
  key: ImageKey,
): { readonly target: FileKey; readonly token: string } | undefined {
  if (!key.objectType.startsWith(STAGED_PREFIX)) return undefined;
  const rest = key.objectType.slice(STAGED_PREFIX.length);
  const at = rest.lastIndexOf('~');
  const token = rest.slice(at + 1);
  if (at < 1 || !isToken(token)) return undefined;
  const { objectId, width, height, mimetype } = key;
  return {
    target: { objectType: rest.slice(0, at), objectId: BigInt(objectId), width, height, mimetype },
    token,
  };
}

/** What is left to do for one key after its transaction ended. */
export type Settlement =
  | { readonly kind: 'delete'; readonly store: Store; readonly key: FileKey; readonly row: RowRef }
  | {
      readonly kind: 'staged';
      readonly store: Store;
      readonly key: FileKey;
      readonly staging: FileKey;
      readonly token: string;
      readonly original: boolean;
    };

/**
 * Settles keys in one short transaction, each under its key's lock (see `file-locks.ts`).
 * Failures are reported as `OrphanFileWarning`s, never thrown: the transaction they follow is
 * over, and what is left (an orphan, a staged file) is what `gc` and `recoverStagedFiles` find.
 */
export async function settle(sequelize: Sequelize, items: readonly Settlement[]): Promise<void> {
  if (items.length === 0) return;
  if (locksOutliveSavepoints(sequelize)) {
    await settleKeyByKey(sequelize, items);
    return;
  }
  const done = new Set<Settlement>();
  try {
    await inLockingTransaction(sequelize, async (transaction) => {
      const finished: string[] = [];
      for (const item of items) {
        try {
          finished.push(
            ...(await underKeyLock(sequelize, transaction, item.key, () =>
              settleOne(sequelize, item, transaction),
            )),
          );
          done.add(item);
        } catch (error) {
          reportUnsettled(item, error);
          done.add(item);
        }
      }
      // Out of the locks' savepoints, which are rolled back (see underKeyLock), and after the
      // last lock: holding a journal row's lock while waiting for a key's could deadlock with
      // a writer. The files are settled already; journal rows whose staged file is gone are
      // taken for done by recovery and gc, should this fail or never commit.
      await deleteTokens(sequelize, finished, transaction);
    });
  } catch (error) {
    // Nothing could be checked: leaving a file is an orphan at worst; deleting it could lose
    // a committed one.
    for (const item of items) if (!done.has(item)) reportUnsettled(item, error);
  }
}

/**
 * {@link settle} where a key's lock lasts until its transaction ends (MySQL, MariaDB): one
 * transaction per key, so no key's lock is held while waiting for another's, then the journal
 * rows in a last transaction of their own.
 */
async function settleKeyByKey(sequelize: Sequelize, items: readonly Settlement[]): Promise<void> {
  const finished: string[] = [];
  for (const item of items) {
    try {
      finished.push(
        ...(await inLockingTransaction(sequelize, (transaction) =>
          underKeyLock(sequelize, transaction, item.key, () =>
            settleOne(sequelize, item, transaction),
          ),
        )),
      );
    } catch (error) {
      reportUnsettled(item, error);
    }
  }
  if (finished.length === 0) return;
  // The files are settled already: journal rows left behind are taken for done by recovery.
  await inLockingTransaction(sequelize, (transaction) =>
    deleteTokens(sequelize, finished, transaction),
  ).catch(() => undefined);
}

/** Settles one key under its lock; resolves the journal tokens that are done with. */
async function settleOne(
  sequelize: Sequelize,
  item: Settlement,
  transaction: Transaction,
): Promise<string[]> {
  if (item.kind === 'delete') {
    const model = item.row.model.unscoped();
    const where = item.row.where as WhereOptions;
    if ((await model.count({ where, transaction })) > 0) return [];
    await deleteKey(item.store, item.key);
    // Transactions delete a key's journal rows with its row; a DELETE in autocommit mode could
    // not, and what was staged for the key then belongs to no row.
    if (!(await journalTableExists(sequelize, transaction))) return [];
    const stale = await tokensOfKey(sequelize, item.key, transaction);
    for (const { token } of stale) await deleteKey(item.store, stagingKeyOf(item.key, token));
    return stale.map(({ token }) => token);
  }
  // Under the key's lock, the journal row is committed or never will be (its writer held the
  // lock until its COMMIT or ROLLBACK): it alone decides, whatever the clocks say.
  if ((await findToken(sequelize, item.token, transaction)) === undefined) {
    // Rolled back, or its row deleted since by another transaction.
    await deleteKey(item.store, item.staging);
    return [];
  }
  await moveStagedFile(item.store, item.staging, item.key, !item.original);
  return [item.token];
}

/**
 * Copies a staged file over its key (`putFile` replaces atomically) and removes it. Resolves
 * `false` when the staged file is gone already: someone else settled it.
 */
export async function moveStagedFile(
  store: Store,
  staging: FileKey,
  key: FileKey,
  reproducible: boolean,
): Promise<boolean> {
  let source: Readable;
  try {
    source = await store.getFile(
      staging.objectType,
      staging.objectId,
      staging.width,
      staging.height,
      staging.mimetype,
    );
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ENOENT') return false;
    throw error;
  }
  try {
    await store.putFile(
      source,
      key.objectType,
      key.objectId,
      key.width,
      key.height,
      key.mimetype,
      reproducible,
    );
  } catch (error) {
    source.destroy();
    throw error;
  }
  await deleteKey(store, staging);
  return true;
}

export function deleteKey(store: Store, key: FileKey): Promise<void> {
  return store.deleteFile(key.objectType, key.objectId, key.width, key.height, key.mimetype);
}

/** Deletes a file now, reporting a failure as a warning. */
export async function deleteFileReporting(
  store: Store,
  key: FileKey,
  message = 'Could not delete the file of a deleted image; it is now an orphan.',
): Promise<void> {
  try {
    await deleteKey(store, key);
  } catch (error) {
    report(message, key, error);
  }
}

function reportUnsettled(item: Settlement, error: unknown): void {
  if (item.kind === 'delete') {
    report(
      'Could not delete the file of a deleted image (or check that no row owns it); it is ' +
        'kept and may be an orphan.',
      item.key,
      error,
    );
  } else {
    report(
      `Could not put the staged file ${describeKey(item.staging)} in place (or remove it); ` +
        'recoverStagedFiles() finishes the job.',
      item.key,
      error,
    );
  }
}

export function report(message: string, key: ImageKey, cause: unknown): void {
  process.emitWarning(new OrphanFileWarning(message, describeKey(key), { cause }));
}
