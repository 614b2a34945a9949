/**
 * Staging keys, and the work that settles a key once its transaction is over: delete the file
 * of a deleted row unless a committed row owns the key again, and move a staged write into
 * place when the row it was written for is committed. The same steps serve the end of a
 * transaction and `recoverStagedFiles` after a crash; every step is safe to repeat.
 */
import type { Readable } from 'node:stream';
import type { Model, ModelStatic, Sequelize, Transaction, WhereOptions } from 'sequelize';
import { OrphanFileWarning } from '../errors.js';
import type { ImageKey } from '../stores/keys.js';
import type { Store } from '../stores/store.js';
import { inLockingTransaction, underKeyLock } from './file-locks.js';

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
  readonly createdAt: Date;
}

/**
 * Object types of staged files start with this. The dot keeps them apart from every
 * table-derived type, and out of what a file-system store's folder serves (dotfiles are never
 * served); on S3 they are a prefix of their own.
 */
export const STAGED_PREFIX = '.imageattach-staged~';

/** `.imageattach-staged~<objectType>~<createdAt ms>`: one path segment, same id, size, type. */
export function stagingKeyOf(key: FileKey, createdAt: Date): FileKey {
  return { ...key, objectType: `${STAGED_PREFIX}${key.objectType}~${createdAt.getTime()}` };
}

/** The key a staged file is meant for and its row's `createdAt`, or `undefined`. */
export function parseStagingKey(
  key: ImageKey,
): { readonly target: FileKey; readonly createdAt: number } | undefined {
  if (!key.objectType.startsWith(STAGED_PREFIX)) return undefined;
  const rest = key.objectType.slice(STAGED_PREFIX.length);
  const at = rest.lastIndexOf('~');
  const createdAt = rest.slice(at + 1);
  if (at < 1 || !/^-?\d+$/.test(createdAt)) return undefined;
  const { objectId, width, height, mimetype } = key;
  return {
    target: { objectType: rest.slice(0, at), objectId: BigInt(objectId), width, height, mimetype },
    createdAt: Number(createdAt),
  };
}

/**
 * Whether a `createdAt` read back from the database is the one written: equal, or equal to
 * the second for a column that keeps no fractions (MySQL's DATETIME).
 */
export function sameInstant(stored: Date, written: number): boolean {
  const time = stored.getTime();
  return time === written || (time % 1000 === 0 && time === Math.floor(written / 1000) * 1000);
}

/** What is left to do for one key after its transaction ended. */
export type Settlement =
  | { readonly kind: 'delete'; readonly store: Store; readonly key: FileKey; readonly row: RowRef }
  | {
      readonly kind: 'staged';
      readonly store: Store;
      readonly key: FileKey;
      readonly staging: FileKey;
      readonly row: RowRef;
    };

/**
 * Settles keys in one short transaction, each under its key's lock (see `file-locks.ts`).
 * Failures are reported as `OrphanFileWarning`s, never thrown: the transaction they follow is
 * over, and what is left (an orphan, a staged file) is what `gc` and `recoverStagedFiles` find.
 */
export async function settle(sequelize: Sequelize, items: readonly Settlement[]): Promise<void> {
  if (items.length === 0) return;
  const done = new Set<Settlement>();
  try {
    await inLockingTransaction(sequelize, async (transaction) => {
      for (const item of items) {
        try {
          await underKeyLock(sequelize, transaction, item.key, () => settleOne(item, transaction));
          done.add(item);
        } catch (error) {
          reportUnsettled(item, error);
          done.add(item);
        }
      }
    });
  } catch (error) {
    // Nothing could be checked: leaving a file is an orphan at worst; deleting it could lose
    // a committed one.
    for (const item of items) if (!done.has(item)) reportUnsettled(item, error);
  }
}

async function settleOne(item: Settlement, transaction: Transaction): Promise<void> {
  const model = item.row.model.unscoped();
  const where = item.row.where as WhereOptions;
  if (item.kind === 'delete') {
    if ((await model.count({ where, transaction })) === 0) await deleteKey(item.store, item.key);
    return;
  }
  const row = await model.findOne({ where, transaction });
  const createdAt = row?.get('createdAt');
  if (
    row !== null &&
    createdAt instanceof Date &&
    sameInstant(createdAt, item.row.createdAt.getTime())
  ) {
    await moveStagedFile(item.store, item.staging, item.key, row.get('original') !== true);
  } else {
    await deleteKey(item.store, item.staging);
  }
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

export function describeKey(key: ImageKey): string {
  return `${key.objectType}/${key.objectId}/${key.width}x${key.height} ${key.mimetype}`;
}

export function report(message: string, key: ImageKey, cause: unknown): void {
  process.emitWarning(new OrphanFileWarning(message, describeKey(key), { cause }));
}
