/**
 * What `imageJobs` uses of a pg-boss 10 instance, typed here so that the library never imports
 * pg-boss (an optional peer dependency): a `PgBoss` fits it.
 */
import type { JobsDb } from './transaction-db.js';

/** Per-job options `imageJobs` sends with (pg-boss's `SendOptions`). */
export interface JobSendOptions {
  db?: JobsDb;
  retryLimit?: number;
  retryDelay?: number;
  retryBackoff?: boolean;
  expireInSeconds?: number;
  deadLetter?: string;
}

/** A fetched job (pg-boss's `Job`). */
export interface FetchedJob {
  id: string;
  name: string;
  data: unknown;
}

/** The part of pg-boss 10's `PgBoss` that `imageJobs` calls. */
export interface JobBoss {
  start(): Promise<unknown>;
  createQueue(
    name: string,
    options?: {
      name: string;
      retryLimit?: number;
      retryDelay?: number;
      retryBackoff?: boolean;
      expireInSeconds?: number;
      deadLetter?: string;
    },
  ): Promise<void>;
  send(name: string, data: object, options: JobSendOptions): Promise<string | null>;
  fetch(name: string, options: { batchSize?: number }): Promise<FetchedJob[]>;
  complete(name: string, id: string, data?: object): Promise<unknown>;
  fail(name: string, id: string, data?: object): Promise<unknown>;
}
