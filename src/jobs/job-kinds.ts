/**
 * The kinds of job `imageJobs` sends and works: a small internal registry of named handlers,
 * one file per kind (`thumbnails-job.ts`), listed once in `JOB_KINDS`. Not a public API.
 */
import type { Sequelize } from 'sequelize';
import type { Store } from '../stores/store.js';
import { gcRangeJob } from './gc-range-job.js';
import { migrateRangeJob } from './migrate-range-job.js';
import { thumbnailsJob } from './thumbnails-job.js';

/** What a handler gets besides the job's data. */
export interface JobContext {
  readonly sequelize: Sequelize;
  readonly store: Store;
  /** Aborted when the worker is told to stop; a long job may end early and be retried. */
  readonly signal: AbortSignal;
}

/** One kind of job: its name (the queue is `<prefix>-<name>`) and its handler. */
export interface JobKind<D extends object = object> {
  readonly name: string;
  /**
   * Does the job. It must be idempotent: a job runs again after a crash, an expiry or a
   * failure. What it resolves to is kept as the job's output; a rejection fails the attempt.
   */
  run(data: D, context: JobContext): Promise<object | undefined>;
}

/** Every kind a worker fetches, in the order its fetch loops poll them. */
export const JOB_KINDS: readonly JobKind[] = [thumbnailsJob, migrateRangeJob, gcRangeJob];

export function findJobKind(name: string): JobKind | undefined {
  return JOB_KINDS.find((kind) => kind.name === name);
}
