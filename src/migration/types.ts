/**
 * The public types of a migration: its options, its events and its report.
 */
import type { MigrationImageError } from '../errors.js';
import type { ImageLike } from '../stores/store.js';

/** The key of an image a migration failed on, without the model instance. */
export interface FailedImageKey {
  objectType: string;
  objectId: bigint;
  width: number;
  height: number;
  mimetype: string;
  original: boolean;
}

/** The counts of a migration run. */
export interface MigrationSummary {
  /** The number of images counted before the run. */
  total: number;
  /** Images finished: migrated, skipped and failed. */
  done: number;
  migrated: number;
  skipped: number;
  failed: number;
  /** Bytes copied (or, in a dry run, that would be copied). */
  bytes: number;
}

export interface MigrationOptions {
  /**
   * How many images are copied at once. Copies wait on I/O, not on the CPU, so the default is
   * four per core, between 4 and 16.
   * @default defaultConcurrency()
   */
  concurrency?: number;
  /**
   * Check each copy: `'size'` compares the destination's size with the bytes read;
   * `'checksum'` (or `true`) also re-reads the destination and compares SHA-256 digests. A copy
   * that does not match is deleted from the destination and reported as failed.
   * @default false
   */
  verify?: boolean | 'size' | 'checksum';
  /**
   * Skip images the destination already has with the same size, so that a run can be
   * repeated or resumed after an interruption. With `verify: 'checksum'` the digests must
   * match too, or the image is copied again.
   * @default false
   */
  skipExisting?: boolean;
  /**
   * Read and compare, but write nothing: the report says what a real run would copy.
   * @default false
   */
  dryRun?: boolean;
  /** Stops the run: no new copy starts, copies in flight are abandoned, and the run rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Stop at the first failed image (after the copies in flight end) instead of collecting
   * failures and going on.
   * @default false
   */
  failFast?: boolean;
  /**
   * Rows read from the database per query; memory stays bounded by it and `concurrency`.
   * @default 500
   */
  pageSize?: number;
}

/** What happened to one image. */
export type MigrationStatus = 'migrated' | 'skipped' | 'failed';

/** Sent after each image; the counters cover the run so far. */
export interface MigrationProgress<I extends ImageLike = ImageLike> extends MigrationSummary {
  /** The image just finished. */
  image: I;
  status: MigrationStatus;
  /** Bytes copied for this image (0 when skipped or failed). */
  imageBytes: number;
  /** Set when `status` is `'failed'`. */
  error?: MigrationImageError;
}

/** What a finished run did. */
export interface MigrationReport extends MigrationSummary {
  /** One error per failed image, each with the image and the cause. */
  failures: MigrationImageError[];
  dryRun: boolean;
  /** Milliseconds from start to end. */
  elapsed: number;
}

/** Events a plan sends, in the manner of umzug's `migrating`/`migrated`. */
export interface MigrationEvents<I extends ImageLike = ImageLike> {
  /** A run starts; `total` is the count taken before it. */
  start: { total: number; dryRun: boolean };
  /** An image's copy starts. */
  migrating: { image: I };
  /** An image is finished (migrated, skipped or failed). */
  progress: MigrationProgress<I>;
  /** A run ended without being aborted (it may still have failures). */
  end: MigrationReport;
}

/** Where a plan gets its images: a count first, then the images a page at a time. */
export interface ImageSource<I extends ImageLike = ImageLike> {
  count(): Promise<number>;
  images(): AsyncIterable<I>;
}
