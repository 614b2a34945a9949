/**
 * Files follow the database. Every transaction that writes or deletes image rows gets a
 * journal of what it did to which store:
 *
 * - a write puts the file right after its row is inserted, under the key's lock (see
 *   `file-locks.ts`), so the new image can be read before commit. When a committed row may
 *   still own the key (the journal shows a row of that key deleted earlier in the transaction:
 *   a replacement of the same size and type), the bytes go to a staging key instead, and reads
 *   through the transaction open them there: nothing a committed row owns is written before
 *   the commit, so a crash or a rollback never leaves it with uncommitted bytes, and other
 *   transactions keep reading the committed ones;
 * - a delete only notes the key;
 * - after the root commits, each key is settled under its lock (`staged-files.ts`): a staged
 *   file is copied over its key and removed, the file of a deleted row is removed unless a
 *   committed row owns the key again. A crash between COMMIT and the end of that copy leaves
 *   the staged file, which `recoverStagedFiles` puts in place;
 * - a rollback (of the root or of a savepoint) removes what was written within it BEFORE the
 *   ROLLBACK statement, while the rows, and with them the keys, are still locked: no other
 *   transaction can have written the same key yet.
 *
 * Journals live in a WeakMap keyed by the root Transaction: nothing is shared by two
 * transactions, and nothing outlives one.
 */
import type { Model, ModelStatic, Sequelize, Transaction } from 'sequelize';
import { StoredObjectCopy } from '../stores/copy-source.js';
import type { FileInput, ImageLike, Store } from '../stores/store.js';
import { lockKeyForWrite } from './file-locks.js';
import { imageTransaction } from './image-transaction.js';
import {
  deleteFileReporting,
  settle,
  stagingKeyOf,
  type FileKey,
  type RowRef,
  type Settlement,
} from './staged-files.js';
import { deleteTokensOfKey, newToken, recordToken } from './staged-journal.js';

export type { FileKey } from './staged-files.js';

/** An image row, as the journal sees it. */
export type ImageRow = Model & ImageLike;

interface Entry {
  readonly kind: 'write' | 'delete';
  readonly store: Store;
  readonly key: FileKey;
  readonly row: RowRef;
  /** The transaction (root or savepoint) the change was made in. */
  readonly origin: Transaction;
  /** Where a write put its bytes because a committed row may still own `key`. */
  readonly staging?: FileKey;
  /** The staged write's journal token (see `staged-journal.ts`). */
  readonly token?: string;
  readonly original: boolean;
}

interface Journal {
  entries: Entry[];
}

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

function sequelizeOf(transaction: Transaction): Sequelize {
  return (transaction as unknown as { sequelize: Sequelize }).sequelize;
}

function isFinished(transaction: Transaction): boolean {
  return Boolean((transaction as unknown as { finished?: string }).finished);
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
    // A savepoint's work is kept by its root, which decides at its own end (Sequelize's
    // commit of a savepoint sends nothing).
    if (!isRoot) return commit();
    try {
      await commit();
    } catch (error) {
      // Treated as a rollback, but checked against the database under the keys' locks rather
      // than undone blindly: when COMMIT reached the server and only its answer was lost, the
      // rows are committed and their files must stay. Files no committed row owns are
      // removed, staged files are put in place or removed as their rows say.
      await finish(transaction, 'uncertain');
      throw error;
    }
    await finish(transaction, 'committed');
  };
  transaction.rollback = async function rollbackWithFiles(): Promise<void> {
    // Before the ROLLBACK, while the rows of the written keys are still locked. Should the
    // ROLLBACK then fail, the database drops the rows anyway when the connection goes.
    if (!isFinished(transaction)) await undo(transaction);
    await rollback();
  };
}

export function keyOf(image: ImageLike): FileKey {
  const { objectType, objectId, width, height, mimetype } = image;
  return { objectType, objectId: BigInt(objectId), width, height, mimetype };
}

/** The row's primary key values and mimetype, to find it (or its successor) after the commit. */
function rowRefOf(image: ImageRow): RowRef {
  const model = image.constructor as ModelStatic<Model>;
  const where: Record<string, unknown> = { mimetype: image.getDataValue('mimetype') };
  for (const name of model.primaryKeyAttributes) where[name] = image.getDataValue(name);
  return { model, where };
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
 *
 * A staged write is journalled in the database too, in this order: the row (the caller's),
 * its token's journal row, the key's lock, the staged file. The token row commits or rolls
 * back with the image row, so after the transaction its presence says which happened; a
 * missing journal table fails the INSERT here, and the whole write rolls back with
 * `JournalTableMissingError`.
 */
export async function writeImageFile(
  transaction: Transaction,
  store: Store,
  image: ImageRow,
  file: FileInput | StoredObjectCopy,
): Promise<void> {
  const sequelize = sequelizeOf(transaction);
  const journal = journalOf(transaction);
  const key = keyOf(image);
  const { original, createdAt } = image;
  let token: string | undefined;
  let staging: FileKey | undefined;
  if (lastEntry(journal, store, key)?.kind === 'delete') {
    token = newToken();
    staging = stagingKeyOf(key, token);
    await recordToken(sequelize, transaction, token, key, original);
  }
  // Held until this transaction ends, so a post-commit delete or move of the key waits for it.
  await lockKeyForWrite(sequelize, transaction, key);
  // Journal first: if putFile fails half-way, the rollback still removes what it left.
  journal.entries.push({
    kind: 'write',
    store,
    key,
    row: rowRefOf(image),
    origin: transaction,
    staging,
    token,
    original,
  });
  const target = { ...(staging ?? key), original, createdAt };
  if (file instanceof StoredObjectCopy) await store.copy(target, file.source, file.options);
  else await store.store(target, file);
}

/**
 * Notes that the row of `image` was deleted in `transaction`; its file goes at commit. The
 * journal rows of its key go now, in the same transaction: whatever was staged for the key
 * (by this transaction or an unsettled earlier one) belongs to a row that is gone once this
 * commits, and a rollback of the DELETE brings them back with the row.
 */
export async function noteImageDeleted(
  transaction: Transaction,
  store: Store,
  image: ImageRow,
): Promise<void> {
  const key = keyOf(image);
  await deleteTokensOfKey(sequelizeOf(transaction), key, transaction);
  journalOf(transaction).entries.push({
    kind: 'delete',
    store,
    key,
    row: rowRefOf(image),
    origin: transaction,
    original: image.original,
  });
}

/** Deletes the file of a row deleted in autocommit mode, unless a committed row owns it. */
export async function deleteCommittedImageFile(
  sequelize: Sequelize,
  store: Store,
  image: ImageRow,
): Promise<void> {
  await settle(sequelize, [{ kind: 'delete', store, key: keyOf(image), row: rowRefOf(image) }]);
}

/**
 * Where `transaction` (or its root) wrote the bytes of `image` if not under its key: its
 * staging key, while the transaction is open. Reads through the transaction open that.
 */
export function stagedKeyOf(
  transaction: Transaction,
  store: Store,
  image: ImageLike,
): FileKey | undefined {
  const journal = journals.get(rootOf(transaction));
  if (journal === undefined) return undefined;
  const entry = lastEntry(journal, store, keyOf(image));
  return entry?.kind === 'write' ? entry.staging : undefined;
}

/**
 * After the root's COMMIT (`committed`), or after a COMMIT that failed (`uncertain`): settles
 * every key the transaction touched. Only the last change of a key tells whether a row of the
 * transaction owns it now; earlier staged writes of the key are just removed.
 */
async function finish(root: Transaction, outcome: 'committed' | 'uncertain'): Promise<void> {
  const journal = journals.get(root);
  if (journal === undefined) return;
  journals.delete(root);
  const settlements: Settlement[] = [];
  const superseded: Entry[] = [];
  const seen: Entry[] = [];
  for (let i = journal.entries.length - 1; i >= 0; i--) {
    const entry = journal.entries[i] as Entry;
    if (seen.some((other) => other.store === entry.store && sameKey(other.key, entry.key))) {
      if (entry.staging !== undefined) superseded.push(entry);
      continue;
    }
    seen.push(entry);
    const { store, key, row, staging, token, original } = entry;
    if (staging !== undefined && token !== undefined) {
      settlements.push({ kind: 'staged', store, key, staging, token, original });
    } else if (entry.kind === 'delete' || outcome === 'uncertain') {
      settlements.push({ kind: 'delete', store, key, row });
    }
  }
  for (const entry of superseded) {
    await deleteFileReporting(entry.store, entry.staging as FileKey);
  }
  await settle(sequelizeOf(root), settlements.reverse());
}

/** Before a rollback of `transaction`: undo, newest first, what was written within it. */
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
    await deleteFileReporting(
      entry.store,
      entry.staging ?? entry.key,
      'Could not remove a file written in a rolled-back transaction.',
    );
  }
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
 * Transactions the library runs itself and rolls back whole on any failure (an upload's): a
 * savepoint inside one would undo nothing the rollback does not, and costs a statement.
 */
const allOrNothing = new WeakSet<Transaction>();

/** Marks a transaction the library rolls back whole on any failure of the calls inside it. */
export function markAllOrNothing(transaction: Transaction): Transaction {
  allOrNothing.add(transaction);
  return transaction;
}

/**
 * Runs `fn` atomically: in a savepoint of the given (or CLS) transaction, or in a transaction
 * of its own. A failure undoes the call's rows and files and leaves the outer transaction usable
 * (in a transaction {@link markAllOrNothing} marked, the whole of it is undone instead).
 * On SQLite it writes in its turn (see `write-turns.ts`): a transaction of its own is an
 * {@link imageTransaction}, an outer one takes a turn first if it holds none.
 */
export async function runAtomic<T>(
  sequelize: Sequelize,
  transaction: Transaction | null | undefined,
  fn: (transaction: Transaction) => Promise<T>,
): Promise<T> {
  const outer = transaction ?? clsTransaction(sequelize);
  if (outer !== undefined && allOrNothing.has(outer)) return fn(outer);
  if (sequelize.getDialect() !== 'sqlite') {
    return outer === undefined
      ? sequelize.transaction(fn)
      : sequelize.transaction({ transaction: outer }, fn);
  }
  return outer === undefined
    ? imageTransaction(sequelize, fn)
    : imageTransaction(sequelize, { transaction: outer }, fn);
}
