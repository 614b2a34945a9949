/**
 * The `thumbnails` job: makes the sizes of one image set, each also in the job's formats,
 * through `generateThumbnails` (its transaction, its parent lock, its files-follow-the-database
 * rules), so a size (and format) already there is kept and a set gone by then gets nothing.
 */
import { NoOriginalImageError } from '../errors.js';
import type { ThumbnailFormat, ThumbnailSize } from '../images/thumbnail.js';
import type { ImageSetAddress } from '../models/thumbnail-scheduler.js';
import { findImageSet } from './find-image-set.js';
import type { JobContext, JobKind } from './job-kinds.js';

export interface ThumbnailsJobData {
  set: ImageSetAddress;
  sizes: ThumbnailSize[];
  /** Absent in the jobs of earlier versions, and when no format was asked for. */
  formats?: ThumbnailFormat[];
}

export const thumbnailsJob: JobKind<ThumbnailsJobData> = {
  name: 'thumbnails',
  async run(data: ThumbnailsJobData, { sequelize, store }: JobContext) {
    const set = await findImageSet(sequelize, data.set);
    if (set === undefined) return { skipped: 'the parent row is gone' };
    try {
      const formats = data.formats === undefined ? {} : { formats: data.formats };
      const images = await set.generateThumbnails(data.sizes, { store, ...formats });
      return { sizes: images.map((image) => `${image.width}x${image.height}`) };
    } catch (error) {
      // The original was deleted (or never committed): nothing to make, nothing to retry.
      if (error instanceof NoOriginalImageError) return { skipped: 'the set has no original' };
      throw error;
    }
  },
};
