/**
 * Image work off the request path: `imageJobs` on pg-boss 10 (an optional peer dependency, so
 * a subpath of its own), or in-process where pg-boss cannot run.
 * @packageDocumentation
 */
export { imageJobs, ImageJobs } from './jobs/image-jobs.js';
export type { ImageJobsOptions, WorkOptions } from './jobs/image-jobs.js';
export type { FetchedJob, JobBoss, JobSendOptions } from './jobs/boss.js';
export type { JobEvent } from './jobs/fetch-loops.js';
export type { JobsDb } from './jobs/transaction-db.js';
export { migrationStores } from './migration/migration-stores.js';
export { distributeGc, DistributedGc } from './gc-distributed.js';
export type { DistributeGcOptions, DistributedGcStatus } from './gc-distributed.js';
