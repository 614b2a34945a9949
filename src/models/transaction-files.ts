/**
 * Files follow the database. Every transaction that writes or deletes image rows gets a
 * journal of what it did to which store; its commit and rollback replay that journal:
 *
 * - a write puts the file at once (the row is already inserted), so the new image can be read
 *   before commit; when the key still holds the bytes of a row deleted earlier in the same
 *   transaction (a replacement of the same size and type), those bytes are first copied to a
 *   backup key, so a rollback can put them back: committed bytes are never lost;
 * - a delete only notes the key: the file is removed after the commit, unless a later write
 *   of the transaction owns the key again;
 * - rollback undoes the writes in reverse order and keeps every deleted row's file;
 * - a savepoint (`sequelize.transaction({ transaction: t }, …)`) shares its root's journal;
 *   rolling it back undoes only what was done under it.
 *
 * Journals live in a WeakMap keyed by the root Transaction: nothing is shared by two
 * transactions, and nothing outlives one.
 */
import { randomBytes } from 'node:crypto';
import type { Sequelize, Transaction } from 'sequelize';
import { OrphanFileWarning } from '../errors.js';
import type { FileInput, ImageLike, Store } from '../stores/store.js';

/** The identity of a stored file, copied out of an image when it is journalled. */
export interface FileKey {
  readonly objectType: string;
  readonly objectId: bigint;
  readonly width: number;
  readonly height: number;
  readonly mimetype: string;
}

interface Entry {
  readonly kind: 'write' | 'delete';
  readonly store: Store;
  readonly key: FileKey;
  /** The transaction (root or savepoint) the change was made in. */
  readonly origin: Transaction;
  /** Where the bytes the write replaced were copied to, if it replaced any. */
  backup?: FileKey;
}

interface Journal {
  entries: Entry[];
}

/** Object type of backup copies; a dot keeps it apart from every table-derived type. */
const BACKUP_OBJECT_TYPE = '.imageattach-backup';

const journals = new WeakMap<Transaction, Journal>();
const patched = new WeakSet<Transaction>();

/** The root of a savepoint chain (Sequelize sets `parent` on savepoint transactions). */
function rootOf(transaction: Transaction): Transaction {
  let root = transaction;
  while (parentOf(root) !== undefined) root = parentOf(root) as Transaction;
  return root;
}

function parentOf(transaction: Transaction): Transaction | undefined {
  return (transaction as Transaction & { parent?: Transaction }).parent ?? undefined;
}

function isWithin(origin: Transaction, transaction: Transaction): boolean {
  for (let t: Transaction | undefined = origin; t !== undefined; t = parentOf(t)) {
    if (t === transaction) return true;
  }
  return false;
}

function journalOf(transaction: Transaction): Journal {
  const root = rootOf(transaction);
  let journal = journals.get(root);
  if (journal === undefined) {
    journal = { entries: [] };
    journals.set(root, journal);
  }
  // Every level of a savepoint chain may be rolled back on its own.
  for (let t: Transaction | undefined = transaction; t !== undefined; t = parentOf(t)) hook(t);
  return journal;
}

/** Wraps `commit` and `rollback` of one transaction object (managed ones call them too). */
function hook(transaction: Transaction): void {
  if (patched.has(transaction)) return;
  patched.add(transaction);
  const commit = transaction.commit.bind(transaction);
  const rollback = transaction.rollback.bind(transaction);
  const isRoot = parentOf(transaction) === undefined;
  transaction.commit = async function commitWithFiles(): Promise<void> {
    try {
      await commit();
    } catch (error) {
      await undo(transaction);
      throw error;
    }
    // A savepoint's work is kept by its root, which decides at its own end.
    if (isRoot) await finish(transaction);
  };
  transaction.rollback = async function rollbackWithFiles(): Promise<void> {
    try {
      await rollback();
    } finally {
      // The database drops the changes even when ROLLBACK itself fails (the connection dies).
      await undo(transaction);
    }
  };
}

export function keyOf(image: ImageLike): FileKey {
  const { objectType, objectId, width, height, mimetype } = image;
  return { objectType, objectId: BigInt(objectId), width, height, mimetype };
}

function sameKey(a: FileKey, b: FileKey): boolean {
  return (
    a.objectType === b.objectType &&
    a.objectId === b.objectId &&
    a.width === b.width &&
    a.height === b.height &&
    a.mimetype === b.mimetype
  );
}

function lastEntry(journal: Journal, store: Store, key: FileKey): Entry | undefined {
  for (let i = journal.entries.length - 1; i >= 0; i--) {
    const entry = journal.entries[i] as Entry;
    if (entry.store === store && sameKey(entry.key, key)) return entry;
  }
  return undefined;
}

/**
 * Writes the file of a row just inserted in `transaction`. Call it after the INSERT: a
 * duplicate key then fails in the database before any byte is written.
 */
export async function writeImageFile(
  transaction: Transaction,
  store: Store,
  image: ImageLike,
  file: FileInput,
): Promise<void> {
  const journal = journalOf(transaction);
  const key = keyOf(image);
  const entry: Entry = { kind: 'write', store, key, origin: transaction };
  // The key still holds the bytes of a row deleted in this transaction: keep a copy, for the
  // rollback that brings the row back.
  if (lastEntry(journal, store, key)?.kind === 'delete') {
    entry.backup = await copyToBackup(store, key);
  }
  // Journal first: if putFile fails half-way, the rollback still removes what it left.
  journal.entries.push(entry);
  await store.store(image, file);
}

/** Notes that the row of `image` was deleted in `transaction`; its file goes at commit. */
export function noteImageDeleted(transaction: Transaction, store: Store, image: ImageLike): void {
  journalOf(transaction).entries.push({
    kind: 'delete',
    store,
    key: keyOf(image),
    origin: transaction,
  });
}

/** Deletes a file now (its row is already gone for good), reporting a failure as a warning. */
export async function deleteFileReporting(store: Store, key: FileKey): Promise<void> {
  try {
    await deleteKey(store, key);
  } catch (error) {
    report(`Could not delete the file of a deleted image; it is now an orphan.`, key, error);
  }
}

/** After the root commits: remove the files of deleted rows no new row owns, and backups. */
async function finish(root: Transaction): Promise<void> {
  const journal = journals.get(root);
  if (journal === undefined) return;
  journals.delete(root);
  const seen: Entry[] = [];
  for (let i = journal.entries.length - 1; i >= 0; i--) {
    const entry = journal.entries[i] as Entry;
    if (entry.backup !== undefined) await deleteFileReporting(entry.store, entry.backup);
    // Only the last change of a key tells whether a row owns it now.
    if (seen.some((other) => other.store === entry.store && sameKey(other.key, entry.key))) {
      continue;
    }
    seen.push(entry);
    if (entry.kind === 'delete') await deleteFileReporting(entry.store, entry.key);
  }
}

/** After a rollback of `transaction`: undo, newest first, what was written within it. */
async function undo(transaction: Transaction): Promise<void> {
  const journal = journals.get(rootOf(transaction));
  if (journal === undefined) return;
  const kept: Entry[] = [];
  const undone: Entry[] = [];
  for (const entry of journal.entries) {
    (isWithin(entry.origin, transaction) ? undone : kept).push(entry);
  }
  journal.entries = kept;
  if (parentOf(transaction) === undefined) journals.delete(transaction);
  for (const entry of undone.reverse()) {
    if (entry.kind !== 'write') continue; // a deleted row is back, and its file never left
    if (entry.backup === undefined) {
      try {
        await deleteKey(entry.store, entry.key);
      } catch (error) {
        report('Could not remove a file written in a rolled-back transaction.', entry.key, error);
      }
      continue;
    }
    try {
      await copyKey(entry.store, entry.backup, entry.key);
    } catch (error) {
      report(
        `Could not restore a replaced file after a rollback; its bytes are kept under ` +
          `${describeKey(entry.backup)}.`,
        entry.key,
        error,
      );
      continue;
    }
    await deleteFileReporting(entry.store, entry.backup);
  }
}

async function copyToBackup(store: Store, key: FileKey): Promise<FileKey | undefined> {
  const backup: FileKey = {
    ...key,
    objectType: BACKUP_OBJECT_TYPE,
    objectId: randomBytes(8).readBigUInt64BE(),
  };
  try {
    await copyKey(store, key, backup);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined; // nothing to keep
    throw error;
  }
  return backup;
}

async function copyKey(store: Store, from: FileKey, to: FileKey): Promise<void> {
  const source = await store.getFile(
    from.objectType,
    from.objectId,
    from.width,
    from.height,
    from.mimetype,
  );
  await store.putFile(source, to.objectType, to.objectId, to.width, to.height, to.mimetype, false);
}

function deleteKey(store: Store, key: FileKey): Promise<void> {
  return store.deleteFile(key.objectType, key.objectId, key.width, key.height, key.mimetype);
}

function describeKey(key: FileKey): string {
  return `${key.objectType}/${key.objectId}/${key.width}x${key.height} ${key.mimetype}`;
}

function report(message: string, key: FileKey, cause: unknown): void {
  process.emitWarning(new OrphanFileWarning(message, describeKey(key), { cause }));
}

/** The transaction Sequelize's CLS namespace holds, when `Sequelize.useCLS()` was called. */
export function clsTransaction(sequelize: Sequelize): Transaction | undefined {
  const cls = (sequelize.constructor as { _cls?: { get(key: string): unknown } })._cls;
  const transaction = cls?.get('transaction');
  return transaction === undefined || transaction === null
    ? undefined
    : (transaction as Transaction);
}

/**
 * Runs `fn` atomically: in a savepoint of the given (or CLS) transaction, or in a transaction
 * of its own. A failure undoes the call's rows and files and leaves the outer transaction usable.
 */
export function runAtomic<T>(
  sequelize: Sequelize,
  transaction: Transaction | null | undefined,
  fn: (transaction: Transaction) => Promise<T>,
): Promise<T> {
  const outer = transaction ?? clsTransaction(sequelize);
  return outer === undefined
    ? sequelize.transaction(fn)
    : sequelize.transaction({ transaction: outer }, fn);
}
