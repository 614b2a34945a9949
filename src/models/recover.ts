/**
 * `recoverStagedFiles`: finishes what a crash interrupted. A replacement of an image by one of
 * the same size and type writes its bytes to a staging key and copies them over the image's key
 * only after the commit; a process killed between the COMMIT and the end of that copy leaves a
 * committed row whose key still holds the old bytes, and the new bytes staged. Run this at
 * start-up, before serving: it copies every staged file whose row is committed into place, and
 * removes staged files whose row never committed once they are older than a grace period.
 */
import { Op, Sequelize, type ModelStatic, type WhereOptions } from 'sequelize';
import { InvalidOptionError } from '../errors.js';
import type { ImageKey } from '../stores/keys.js';
import { assertStore, type ListedFile, type Store } from '../stores/store.js';
import { inLockingTransaction, underKeyLock } from './file-locks.js';
import { Image } from './image.js';
import {
  deleteKey,
  moveStagedFile,
  parseStagingKey,
  sameInstant,
  STAGED_PREFIX,
  type FileKey,
} from './staged-files.js';

export interface RecoverStagedFilesOptions {
  /** The Sequelize whose models (those extending `Image`) own the images. */
  sequelize: Sequelize;
  /** The store to recover; it must support `listFiles()`. */
  store: Store;
  /**
   * Milliseconds after its row's `createdAt` (in the file's name) after which a staged file
   * whose row is not committed is removed. A younger one may belong to a transaction still
   * running; make this longer than the longest one.
   * @default 3600000 (one hour)
   */
  gracePeriod?: number;
}

export interface RecoverStagedFilesReport {
  /** Staged files found. */
  found: number;
  /** Keys whose committed row's staged bytes were copied into place. */
  recovered: ImageKey[];
  /** Staged files of rows never committed (or replaced since), past the grace period: removed. */
  removed: ImageKey[];
  /** Staged files with no committed row yet, within the grace period: left alone. */
  kept: ImageKey[];
  /** Staged files that could not be settled, and why; running again retries them. */
  failures: { file: ListedFile; error: unknown }[];
}

export const DEFAULT_STAGED_GRACE_PERIOD = 60 * 60 * 1000;

/**
 * Puts the staged files of committed rows in place and removes stale ones. Safe to run twice,
 * and while the application runs: each file is settled under its key's lock.
 *
 * @example
 * await recoverStagedFiles({ sequelize, store }); // at start-up, before app.listen()
 */
export async function recoverStagedFiles(
  options: RecoverStagedFilesOptions,
): Promise<RecoverStagedFilesReport> {
  const { sequelize, store, gracePeriod } = validate(options);
  const report: RecoverStagedFilesReport = {
    found: 0,
    recovered: [],
    removed: [],
    kept: [],
    failures: [],
  };
  const staged: { file: ListedFile; target: FileKey; createdAt: number }[] = [];
  for await (const file of store.listFiles!({ objectTypePrefix: STAGED_PREFIX })) {
    // Temporary files of interrupted writes are gc's to remove.
    const parsed = file.temporary ? undefined : parseStagingKey(file.key);
    if (parsed !== undefined) staged.push({ file, ...parsed });
  }
  report.found = staged.length;
  const cutoff = Date.now() - gracePeriod;
  for (const { file, target, createdAt } of staged) {
    const staging: FileKey = { ...file.key, objectId: BigInt(file.key.objectId) };
    try {
      await inLockingTransaction(sequelize, (transaction) =>
        underKeyLock(sequelize, transaction, target, async () => {
          const row = await committedRow(sequelize, target, createdAt, transaction);
          if (row !== undefined) {
            if (await moveStagedFile(store, staging, target, !row.original)) {
              report.recovered.push(target);
            }
          } else if (createdAt <= cutoff) {
            await deleteKey(store, staging);
            report.removed.push(staging);
          } else {
            report.kept.push(staging);
          }
        }),
      );
    } catch (error) {
      report.failures.push({ file, error });
    }
  }
  return report;
}

/** The committed row of `key` created at `createdAt`, in any image model of that object type. */
async function committedRow(
  sequelize: Sequelize,
  key: FileKey,
  createdAt: number,
  transaction: Parameters<typeof underKeyLock>[1],
): Promise<Image | undefined> {
  for (const model of imageModelsOfType(sequelize, key.objectType)) {
    const rows = await model.unscoped().findAll({
      where: {
        width: key.width,
        height: key.height,
        mimetype: key.mimetype,
        // A second either way: a column without fractions keeps only the second.
        createdAt: { [Op.between]: [new Date(createdAt - 1000), new Date(createdAt + 1000)] },
      } as WhereOptions,
      transaction,
    });
    const row = rows.find(
      (candidate) =>
        sameInstant(candidate.createdAt, createdAt) && objectIdOf(candidate) === key.objectId,
    );
    if (row !== undefined) return row;
  }
  return undefined;
}

function imageModelsOfType(sequelize: Sequelize, objectType: string): ModelStatic<Image>[] {
  return Object.values(sequelize.models).filter((model): model is ModelStatic<Image> => {
    if (!(model.prototype instanceof Image)) return false;
    try {
      return (model.build({}) as Image).objectType === objectType;
    } catch {
      return false;
    }
  });
}

function objectIdOf(image: Image): bigint | undefined {
  try {
    return image.objectId;
  } catch {
    return undefined;
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
