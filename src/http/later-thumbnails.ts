/**
 * `attachImage({ later })`: the thumbnails are sent as one job in the upload's transaction
 * instead of being made in the request, and `res.locals.image.thumbnails` lists them as
 * pending, each showing the original (the nearest larger image) scaled to its box meanwhile.
 */
import type { Transaction } from 'sequelize';
import { InvalidOptionError } from '../errors.js';
import type { ThumbnailFormat, ThumbnailSize } from '../images/thumbnail.js';
import type { ThumbnailScheduler } from '../models/thumbnail-scheduler.js';

/** What a set needs to make thumbnails later (`SingleImageSet`, `ImageSubset`). */
export interface LaterThumbnailSet {
  generateThumbnailsLater?(
    sizes: readonly ThumbnailSize[],
    options: {
      transaction?: Transaction;
      jobs?: ThumbnailScheduler;
      formats?: readonly ThumbnailFormat[];
    },
  ): Promise<Array<{ width: number; height: number; mimetype?: string }>>;
}

/** A thumbnail still to be made, as `res.locals.image.thumbnails` lists it. */
export interface PendingThumbnailFields {
  /**
   * `true` until a worker has made it; `image` and `url` are the original's meanwhile, while
   * `width`, `height` and `mimetype` are the thumbnail's to come (one entry per size and
   * format).
   */
  pending?: true;
}

/** Checks the `later` option once. */
export function checkLater(later: unknown): ThumbnailScheduler | undefined {
  if (later === undefined) return undefined;
  if (
    typeof later !== 'object' ||
    later === null ||
    typeof (later as ThumbnailScheduler).scheduleThumbnails !== 'function'
  ) {
    throw new InvalidOptionError(
      'later',
      'must be the imageJobs(...) of sequelize-imageattach/jobs',
    );
  }
  return later as ThumbnailScheduler;
}

/**
 * Sends the set's thumbnails (each size also in `formats`) as a job in `transaction`; resolves
 * to each size's box in each format.
 */
export async function scheduleLater(
  set: LaterThumbnailSet,
  sizes: readonly ThumbnailSize[],
  transaction: Transaction,
  jobs: ThumbnailScheduler,
  formats: readonly ThumbnailFormat[] | undefined,
): Promise<Array<{ width: number; height: number; mimetype?: string }>> {
  if (typeof set.generateThumbnailsLater !== 'function') {
    throw new InvalidOptionError(
      'later',
      'the image set `to` returned has no generateThumbnailsLater',
    );
  }
  return await set.generateThumbnailsLater(sizes, {
    transaction,
    jobs,
    ...(formats === undefined ? {} : { formats }),
  });
}

/**
 * The original's description, resized to each box (in the box's format, when it has one) and
 * marked pending.
 */
export function pendingThumbnails<F extends { width: number; height: number; mimetype: string }>(
  original: F,
  boxes: ReadonlyArray<{ width: number; height: number; mimetype?: string }>,
): Array<F & { pending: true }> {
  return boxes.map((box) => ({
    ...original,
    width: box.width,
    height: box.height,
    mimetype: box.mimetype ?? original.mimetype,
    pending: true,
  }));
}
