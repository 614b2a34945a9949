/**
 * `gc`: reconciles a store with the image rows of the database, after crashes or failed
 * deletes. It finds files that no row owns (orphans) and rows whose file is missing, and can
 * remove the orphans; it never writes a row. A file younger than the grace period is never an
 * orphan, because a transaction that has written its file but not yet committed its row looks
 * exactly like one. A row whose file the store could not check (a network error, a permission
 * error) is "unknown", never "missing": an unreachable store must not look empty.
 *
 * Staged files (same-size replacements waiting to be moved into place) are never orphans here:
 * after a crash one may hold the only copy of a committed row's bytes. `recoverStagedFiles`
 * settles them; run it first. gc reports the staged-file journal's rows older than the grace
 * period whose staged file is gone from the store (a move that finished when the row's delete
 * did not, or another store's write), and removes them with `delete: true`: the library's own
 * bookkeeping, never an image row.
 */
import { Sequelize, type ModelStatic } from 'sequelize';
import { InvalidOptionError } from './errors.js';
import { ID_PREFIX, rangeKeyPrefix } from './gc-key-ranges.js';
import { peekable, sortedFiles, sortedRows, type OrderedRow, type Peekable } from './gc-sources.js';
import { imageModelsOf } from './migration/migrate.js';
import { Image } from './models/image.js';
import { deleteFinishedJournalRow } from './models/recover.js';
import { parseStagingKey, STAGED_PREFIX } from './models/staged-files.js';
import { journalRows, journalTableExists, type StagedJournalRow } from './models/staged-journal.js';
import { ensureSqliteSetUp } from './models/sqlite-setup.js';
import { compareUtf8 } from './stores/key-order.js';
import type { ImageKey } from './stores/keys.js';
import { assertStore, type ListedFile, type Store } from './stores/store.js';

export interface GcOptions {
  /** The store to reconcile; it must support `listFiles()`. */
  store: Store;
  /** Every model extending `Image` of this Sequelize instance, or the given image models. */
  models: Sequelize | readonly ModelStatic<Image>[];
  /**
   * Milliseconds a file must have existed before it may be called an orphan. Make it longer
   * than the longest transaction that writes images.
   * @default 86400000 (one day)
   */
  gracePeriod?: number;
  /**
   * Remove the orphans found (files only; image rows are never touched) and the staged-file
   * journal's rows in `journal`.
   * @default false (a dry run)
   */
  delete?: boolean;
  /**
   * Rows read per query.
   * @default 1000
   */
  pageSize?: number;
  /**
   * Keep every finding in the report's lists. Turn it off for big stores, whose orphans alone
   * could fill memory: the report then holds `counts` (always kept) and the journal rows, and
   * `onFinding` sees each finding as it is made.
   * @default true
   */
  collect?: boolean;
  /** Called with each finding as it is made (before the next is looked for). */
  onFinding?: (finding: GcFinding) => void | Promise<void>;
  /**
   * The folder where both sides are sorted, about 200 bytes a file and a row; removed after.
   * @default os.tmpdir()
   */
  tmpDir?: string;
  /**
   * One part of the key space, for a distributed gc (`distributeGc`): the files of one object
   * type and the rows of the models that have it (with `idPrefix`, only the keys
   * `type/<idPrefix>…`), or every file of none of the types in `otherThan` (with the staged
   * files and the journal rows).
   * @default the whole store
   */
  keySpace?: GcKeySpace;
}

/**
 * A part of the key space `type/id/WxH.ext`: by object type (the first segment), and within
 * one type by the leading characters of the decimal id: `idPrefix: '12'` is ids 12, 120–129,
 * 1200…; `'1/'` is id 1 alone; `'-'` every negative id; `'0'` id 0.
 */
export type GcKeySpace =
  { objectType: string; idPrefix?: string } | { otherThan: readonly string[] };

/** One finding of `gc`, in the order the merge makes them (see `GcOptions.onFinding`). */
export type GcFinding =
  | { readonly kind: 'orphan' | 'recent' | 'staged' | 'deleted'; readonly file: ListedFile }
  | { readonly kind: 'deleteFailure'; readonly file: ListedFile; readonly error: unknown }
  | { readonly kind: 'missing'; readonly image: GcImage }
  | { readonly kind: 'unknown'; readonly image: GcImage; readonly error: unknown };

/** How many of each finding, kept whether or not `collect` keeps the lists. */
export interface GcCounts {
  orphans: number;
  recent: number;
  staged: number;
  missing: number;
  unknown: number;
  deleted: number;
  deleteFailures: number;
}

/** A row of the report: which image, of which model. */
export interface GcImage extends ImageKey {
  /** The model's name. */
  readonly model: string;
  readonly original: boolean;
}

export interface GcReport {
  /** Image rows read. */
  rows: number;
  /** Files listed (temporary files included). */
  files: number;
  /** Files no row owns, older than the grace period (temporary files of dead writes too). */
  orphans: ListedFile[];
  /** Files no row owns yet, but younger than the grace period: left alone. */
  recent: ListedFile[];
  /** Staged files, left to `recoverStagedFiles`. */
  staged: ListedFile[];
  /** Rows whose file the store says is not there. */
  missing: GcImage[];
  /** Rows whose file the store could not check; `error` says why. */
  unknown: { image: GcImage; error: unknown }[];
  /** Orphans removed (with `delete: true`). */
  deleted: ListedFile[];
  /** Orphans that could not be removed. */
  deleteFailures: { file: ListedFile; error: unknown }[];
  /**
   * Rows of the staged-file journal older than the grace period whose staged file this store
   * does not hold (see `recoverStagedFiles`). Empty when the journal table does not exist.
   */
  journal: StagedJournalRow[];
  /** Journal rows removed (with `delete: true`), each checked again under its key's lock. */
  journalDeleted: StagedJournalRow[];
  /** The number of each finding (the lengths of the lists above when `collect` is on). */
  counts: GcCounts;
}

export const DEFAULT_GRACE_PERIOD = 24 * 60 * 60 * 1000;
const DEFAULT_PAGE_SIZE = 1000;

/**
 * Compares the store with the image rows and reports orphans, missing files and files that
 * could not be checked; with `delete: true`, removes the orphans.
 *
 * Memory does not grow with the store: both sides are sorted by the UTF-8 bytes of their
 * `type/id/WxH.ext` key (see `key-order.ts`) through temporary files in `tmpDir` (about 200
 * bytes a file or row), then merged one entry at a time. With `collect: false` the report keeps
 * counts only, and `onFinding` sees each finding as it is made.
 *
 * @example
 * const report = await gc({ store, models: sequelize, delete: true });
 * console.log(report.deleted.length, 'orphans removed;', report.missing.length, 'rows lack files');
 */
export async function gc(options: GcOptions): Promise<GcReport> {
  const { store, gracePeriod, pageSize, remove, collect, onFinding, tmpDir, keySpace, ...valid } =
    validate(options);
  const inSpace = (objectType: string) =>
    keySpace === undefined ||
    ('objectType' in keySpace
      ? objectType === keySpace.objectType
      : !keySpace.otherThan.includes(objectType));
  const models = valid.models.filter((model) => inSpace(objectTypeOfModel(model)));
  const withJournal = keySpace === undefined || 'otherThan' in keySpace;
  const idPrefix =
    keySpace !== undefined && 'objectType' in keySpace ? keySpace.idPrefix : undefined;
  const keyPrefix =
    keySpace !== undefined && 'objectType' in keySpace
      ? rangeKeyPrefix(keySpace.objectType, idPrefix)
      : undefined;
  const sequelize = options.models instanceof Sequelize ? options.models : models[0]?.sequelize;
  // gc only reads rows, but next to a running app its reads may meet a commit: wait for it.
  for (const model of models) if (model.sequelize) ensureSqliteSetUp(model.sequelize);

  const report = emptyReport();
  const found = async (finding: GcFinding) => {
    record(report, finding, collect);
    await onFinding?.(finding);
  };
  const startedAt = Date.now();
  const cutoff = startedAt - gracePeriod;
  const unowned = async (file: ListedFile) => {
    if (file.modifiedAt.getTime() > cutoff) return found({ kind: 'recent', file });
    await found({ kind: 'orphan', file });
    if (remove) await removeOrphan(store, file, found);
  };

  // Files first, rows second: a row committed after the listing then finds its file by a
  // direct check, and a file written after it is simply not seen. Each sort reads its whole
  // source at its first step.
  const stagedTokens = new Set<string | undefined>();
  const files = peekable(
    sortedFiles(store, tmpDir, keyPrefix, async (file) => {
      if (!inSpace(file.key.objectType)) return false;
      report.files += 1;
      if (file.key.objectType.startsWith(STAGED_PREFIX) && !file.temporary) {
        // Pending writes only: few, and their tokens are needed for the journal below.
        stagedTokens.add(parseStagingKey(file.key)?.token);
        await found({ kind: 'staged', file });
        return false;
      }
      if (!file.temporary) return true;
      await unowned(file);
      return false;
    }),
  );
  let rows: Peekable<OrderedRow> | undefined;
  try {
    await files.peek();
    const sorted = peekable(
      sortedRows(models, pageSize, tmpDir, idPrefix, () => {
        report.rows += 1;
      }),
    );
    rows = sorted;
    await sorted.peek();
    for (;;) {
      const file = await files.peek();
      const row = await sorted.peek();
      if (file === undefined && row === undefined) break;
      const order =
        file === undefined ? 1 : row === undefined ? -1 : compareUtf8(file.order, row.order);
      if (order < 0) {
        await files.take();
        await unowned(file!.file);
      } else if (order > 0) {
        await sorted.take();
        const image = row!.image;
        const state = await check(store, image);
        if (state === 'missing') await found({ kind: 'missing', image });
        else if (state !== 'present') await found({ kind: 'unknown', image, error: state.error });
      } else {
        // One file, its rows (two mimetypes may share an extension, hence a file).
        while ((await files.peek())?.order === row!.order) await files.take();
        while ((await sorted.peek())?.order === row!.order) await sorted.take();
      }
    }
  } finally {
    await files.close();
    await rows?.close();
  }

  // Read after the listing, like the image rows: a write committed since is young.
  if (withJournal && sequelize !== undefined && (await journalTableExists(sequelize))) {
    for await (const row of journalRows(sequelize)) {
      if (!stagedTokens.has(row.token) && row.createdAt.getTime() <= cutoff) {
        report.journal.push(row);
      }
    }
  }
  if (remove) {
    for (const row of report.journal) {
      try {
        if (await deleteFinishedJournalRow(sequelize!, store, row)) report.journalDeleted.push(row);
      } catch {
        // Left in `journal` and out of `journalDeleted`: a journal row whose staged file is
        // gone is harmless, and the next run retries it.
      }
    }
  }
  return report;
}

async function removeOrphan(
  store: Store,
  file: ListedFile,
  found: (finding: GcFinding) => Promise<void>,
): Promise<void> {
  try {
    if (file.temporary) await store.deleteListedFile!(file);
    else {
      const { objectType, objectId, width, height, mimetype } = file.key;
      await store.deleteFile(objectType, objectId, width, height, mimetype);
    }
  } catch (error) {
    return found({ kind: 'deleteFailure', file, error });
  }
  return found({ kind: 'deleted', file });
}

function validate(options: GcOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object with `store` and `models`');
  }
  assertStore(options.store, 'store');
  if (typeof options.store.listFiles !== 'function') {
    throw new InvalidOptionError(
      'store',
      `${options.store.constructor.name} cannot list its files (it has no listFiles())`,
    );
  }
  let models: ModelStatic<Image>[];
  if (options.models instanceof Sequelize) {
    models = imageModelsOf(options.models);
  } else if (
    Array.isArray(options.models) &&
    (options.models as readonly unknown[]).every(
      (model) => typeof model === 'function' && model.prototype instanceof Image,
    )
  ) {
    models = [...(options.models as readonly ModelStatic<Image>[])];
  } else {
    throw new InvalidOptionError(
      'models',
      'must be a Sequelize instance or an array of models that extend Image',
    );
  }
  const gracePeriod = options.gracePeriod ?? DEFAULT_GRACE_PERIOD;
  if (typeof gracePeriod !== 'number' || !Number.isFinite(gracePeriod) || gracePeriod < 0) {
    throw new InvalidOptionError('gracePeriod', 'must be a number of milliseconds, 0 or more');
  }
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new InvalidOptionError('pageSize', 'must be a positive integer');
  }
  if (options.delete !== undefined && typeof options.delete !== 'boolean') {
    throw new InvalidOptionError('delete', 'must be a boolean');
  }
  if (options.delete === true && typeof options.store.deleteListedFile !== 'function') {
    // Without it, a temporary file could only be "removed" by deleting the finished file.
    throw new InvalidOptionError(
      'store',
      `${options.store.constructor.name} has listFiles() but no deleteListedFile()`,
    );
  }
  if (options.collect !== undefined && typeof options.collect !== 'boolean') {
    throw new InvalidOptionError('collect', 'must be a boolean');
  }
  if (options.onFinding !== undefined && typeof options.onFinding !== 'function') {
    throw new InvalidOptionError('onFinding', 'must be a function');
  }
  if (
    options.tmpDir !== undefined &&
    (typeof options.tmpDir !== 'string' || options.tmpDir === '')
  ) {
    throw new InvalidOptionError('tmpDir', 'must be a folder path');
  }
  return {
    store: options.store,
    models,
    gracePeriod,
    pageSize,
    remove: options.delete === true,
    collect: options.collect ?? true,
    onFinding: options.onFinding,
    tmpDir: options.tmpDir,
    keySpace: validKeySpace(options.keySpace),
  };
}

function validKeySpace(keySpace: GcKeySpace | undefined): GcKeySpace | undefined {
  if (keySpace === undefined) return undefined;
  const valid =
    typeof keySpace === 'object' &&
    keySpace !== null &&
    ('objectType' in keySpace
      ? typeof keySpace.objectType === 'string' &&
        keySpace.objectType !== '' &&
        !keySpace.objectType.includes('/') &&
        (keySpace.idPrefix === undefined ||
          (typeof keySpace.idPrefix === 'string' && ID_PREFIX.test(keySpace.idPrefix)))
      : Array.isArray(keySpace.otherThan) &&
        keySpace.otherThan.every((type) => typeof type === 'string'));
  if (!valid) {
    throw new InvalidOptionError(
      'keySpace',
      "must be { objectType, idPrefix? } (idPrefix: '-', '0', digits, or digits then '/') " +
        'or { otherThan: [types] }',
    );
  }
  return keySpace;
}

/** The object type of a model's files (what `image.objectType` gives for its rows). */
export function objectTypeOfModel(model: ModelStatic<Image>): string {
  return (model as unknown as typeof Image).objectType ?? model.tableName.replace(/_/g, '-');
}

function emptyReport(): GcReport {
  return {
    rows: 0,
    files: 0,
    orphans: [],
    recent: [],
    staged: [],
    missing: [],
    unknown: [],
    deleted: [],
    deleteFailures: [],
    journal: [],
    journalDeleted: [],
    counts: {
      orphans: 0,
      recent: 0,
      staged: 0,
      missing: 0,
      unknown: 0,
      deleted: 0,
      deleteFailures: 0,
    },
  };
}

function record(report: GcReport, finding: GcFinding, collect: boolean): void {
  const { counts } = report;
  switch (finding.kind) {
    case 'orphan':
      counts.orphans += 1;
      if (collect) report.orphans.push(finding.file);
      break;
    case 'recent':
      counts.recent += 1;
      if (collect) report.recent.push(finding.file);
      break;
    case 'staged':
      counts.staged += 1;
      if (collect) report.staged.push(finding.file);
      break;
    case 'deleted':
      counts.deleted += 1;
      if (collect) report.deleted.push(finding.file);
      break;
    case 'deleteFailure':
      counts.deleteFailures += 1;
      if (collect) report.deleteFailures.push({ file: finding.file, error: finding.error });
      break;
    case 'missing':
      counts.missing += 1;
      if (collect) report.missing.push(finding.image);
      break;
    case 'unknown':
      counts.unknown += 1;
      if (collect) report.unknown.push({ image: finding.image, error: finding.error });
      break;
  }
}

type Checked = 'present' | 'missing' | { error: unknown };

/** Asks the store itself about one file; only a clear "not there" counts as missing. */
async function check(store: Store, image: GcImage): Promise<Checked> {
  const { objectType, objectId, width, height, mimetype } = image;
  try {
    if (typeof store.statFile === 'function') {
      const stat = await store.statFile(objectType, objectId, width, height, mimetype);
      return stat === undefined ? 'missing' : 'present';
    }
    const stream = await store.getFile(objectType, objectId, width, height, mimetype);
    stream.destroy();
    return 'present';
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ENOENT') return 'missing';
    return { error };
  }
}
