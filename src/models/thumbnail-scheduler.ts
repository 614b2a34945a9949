/**
 * What `generateThumbnailsLater` hands its work to: the `imageJobs(...)` of the set's Sequelize
 * (in `sequelize-imageattach/jobs`), found here so that the core never loads pg-boss.
 */
import type { Sequelize, Transaction } from 'sequelize';
import type { ThumbnailFormat, ThumbnailSize } from '../images/thumbnail.js';

/**
 * Where an image set lives, in JSON: enough for a worker in another process to find it again
 * (`sequelize.models[model]`, the row whose `sourceKey` is `key`, its `attachment`, and for a
 * `multiple` attachment the subset's `criteria`).
 */
export interface ImageSetAddress {
  model: string;
  sourceKey: string;
  key: string | number;
  attachment: string;
  criteria?: Record<string, unknown>;
}

/** Takes thumbnail work to do after the transaction commits (`imageJobs` implements it). */
export interface ThumbnailScheduler {
  /**
   * Records, inside `transaction`, that the set's thumbnails of `sizes` (each also in
   * `formats`, as `generateThumbnails` takes them) are to be made: the work becomes visible
   * when the transaction commits and is dropped when it rolls back.
   */
  scheduleThumbnails(
    address: ImageSetAddress,
    sizes: readonly ThumbnailSize[],
    transaction: Transaction,
    formats?: readonly ThumbnailFormat[],
  ): Promise<void>;
}

const schedulers = new WeakMap<Sequelize, ThumbnailScheduler>();

/** @internal `imageJobs` registers itself for its Sequelize: one per process. */
export function registerScheduler(sequelize: Sequelize, scheduler: ThumbnailScheduler): void {
  schedulers.set(sequelize, scheduler);
}

/** @internal */
export function unregisterScheduler(sequelize: Sequelize, scheduler: ThumbnailScheduler): void {
  if (schedulers.get(sequelize) === scheduler) schedulers.delete(sequelize);
}

/** The scheduler registered for `sequelize`, if any. */
export function schedulerOf(sequelize: Sequelize): ThumbnailScheduler | undefined {
  return schedulers.get(sequelize);
}
