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
import { imageModelsOf } from './migration/migrate.js';
import { modelImageSource } from './migration/model-source.js';
import { Image } from './models/image.js';
import { deleteFinishedJournalRow } from './models/recover.js';
import { parseStagingKey, STAGED_PREFIX } from './models/staged-files.js';
import { allTokens, journalTableExists, type StagedJournalRow } from './models/staged-journal.js';
import { ensureSqliteSetUp } from './models/sqlite-setup.js';
import { fileIdentity, type ImageKey } from './stores/keys.js';
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
}

export const DEFAULT_GRACE_PERIOD = 24 * 60 * 60 * 1000;
const DEFAULT_PAGE_SIZE = 1000;

/**
 * Compares the store with the image rows and reports orphans, missing files and files that
 * could not be checked; with `delete: true`, removes the orphans.
 *
 * @example
 * const report = await gc({ store, models: sequelize, delete: true });
 * console.log(report.deleted.length, 'orphans removed;', report.missing.length, 'rows lack files');
 */
export async function gc(options: GcOptions): Promise<GcReport> {
  const { store, models, gracePeriod, pageSize, remove } = validate(options);
  const sequelize = options.models instanceof Sequelize ? options.models : models[0]?.sequelize;
  // gc only reads rows, but next to a running app its reads may meet a commit: wait for it.
  for (const model of models) if (model.sequelize) ensureSqliteSetUp(model.sequelize);
  const listFiles = store.listFiles!.bind(store);

  // Files first, rows second: a row committed after the listing then finds its file by a
  // direct check, and a file written after it is simply not seen.
  const startedAt = Date.now();
  const byIdentity = new Map<string, ListedFile>();
  const temporary: ListedFile[] = [];
  const staged: ListedFile[] = [];
  let files = 0;
  for await (const file of listFiles()) {
    files += 1;
    if (file.key.objectType.startsWith(STAGED_PREFIX) && !file.temporary) staged.push(file);
    else if (file.temporary) temporary.push(file);
    else byIdentity.set(fileIdentity(file.key), file);
  }

  const report: GcReport = {
    rows: 0,
    files,
    orphans: [],
    recent: [],
    staged,
    missing: [],
    unknown: [],
    deleted: [],
    deleteFailures: [],
    journal: [],
    journalDeleted: [],
  };
  for (const model of models) {
    for await (const row of modelImageSource(model, pageSize).images()) {
      report.rows += 1;
      const image = describeRow(model, row);
      // What is left in the map once every row has taken its file is what no row owns.
      if (byIdentity.delete(fileIdentity(image))) continue;
      const state = await check(store, image);
      if (state === 'missing') report.missing.push(image);
      else if (state !== 'present') report.unknown.push({ image, error: state.error });
    }
  }

  const cutoff = startedAt - gracePeriod;
  for (const file of [...byIdentity.values(), ...temporary]) {
    if (file.modifiedAt.getTime() > cutoff) report.recent.push(file);
    else report.orphans.push(file);
  }
  // Read after the listing, like the image rows: a write committed since is young.
  const tokens = new Set(staged.map((file) => parseStagingKey(file.key)?.token));
  if (sequelize !== undefined && (await journalTableExists(sequelize))) {
    for (const row of await allTokens(sequelize)) {
      if (!tokens.has(row.token) && row.createdAt.getTime() <= cutoff) report.journal.push(row);
    }
  }

  if (remove) {
    for (const file of report.orphans) {
      try {
        if (file.temporary) await store.deleteListedFile!(file);
        else {
          const { objectType, objectId, width, height, mimetype } = file.key;
          await store.deleteFile(objectType, objectId, width, height, mimetype);
        }
        report.deleted.push(file);
      } catch (error) {
        report.deleteFailures.push({ file, error });
      }
    }
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
  return { store: options.store, models, gracePeriod, pageSize, remove: options.delete === true };
}

function describeRow(model: ModelStatic<Image>, row: Image): GcImage {
  return {
    model: model.name,
    objectType: row.objectType,
    objectId: row.objectId,
    width: row.width,
    height: row.height,
    mimetype: row.mimetype,
    original: row.original,
  };
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
