/**
 * A worker's fetch loops: each takes one job at a time with `boss.fetch()` and runs it, polling
 * the queues in turn and sleeping only when all were empty. (pg-boss 10's `work()` sleeps after
 * every fetch and has no concurrency option.)
 */
import { debuglog } from 'node:util';
import type { FetchedJob, JobBoss } from './boss.js';
import type { JobKind } from './job-kinds.js';

const log = debuglog('imageattach:jobs');

export interface FetchLoopsOptions {
  boss: JobBoss;
  kinds: readonly JobKind[];
  queueOf: (kind: JobKind) => string;
  concurrency: number;
  pollIntervalMs: number;
  run: (kind: JobKind, job: FetchedJob, signal: AbortSignal) => Promise<object | undefined>;
  onJob?: ((event: JobEvent) => void) | undefined;
}

/** What `work({ onJob })` is told as a job starts and ends in this process. */
export interface JobEvent {
  kind: string;
  id: string;
  state: 'started' | 'completed' | 'failed';
  /** What the job resolved to (`completed`). */
  output?: object | undefined;
  /** Why the attempt failed (`failed`): pg-boss retries it, or dead-letters it at the last. */
  error?: unknown;
}

export class FetchLoops {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[];
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: FetchLoopsOptions) {
    this.loops = Array.from({ length: options.concurrency }, () => this.loop());
  }

  /** Fetches nothing more; resolves when the jobs being run have ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const wake of this.sleepers) wake();
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    const { kinds, pollIntervalMs } = this.options;
    while (!this.abort.signal.aborted) {
      let ran = false;
      for (const kind of kinds) {
        if (this.abort.signal.aborted) return;
        if (await this.runOne(kind)) ran = true;
      }
      if (!ran) await this.sleep(pollIntervalMs);
    }
  }

  /** Fetches and runs one job of `kind`; false when its queue was empty. */
  private async runOne(kind: JobKind): Promise<boolean> {
    const { boss, queueOf, run, onJob } = this.options;
    const queue = queueOf(kind);
    let job: FetchedJob | undefined;
    try {
      [job] = await boss.fetch(queue, { batchSize: 1 });
    } catch (error) {
      log('fetching from %s failed: %O', queue, error);
      return false;
    }
    if (job === undefined) return false;
    const event = { kind: kind.name, id: job.id };
    onJob?.({ ...event, state: 'started' });
    let output: object | undefined;
    try {
      output = await run(kind, job, this.abort.signal);
    } catch (error) {
      log('job %s of %s failed: %O', job.id, queue, error);
      onJob?.({ ...event, state: 'failed', error });
      // Should this fail too (the database is away), the job expires and is retried.
      await boss.fail(queue, job.id, describeError(error)).catch((failure: unknown) => {
        log('recording the failure of job %s failed: %O', job.id, failure);
      });
      return true;
    }
    await boss.complete(queue, job.id, output).catch((failure: unknown) => {
      // Done but not recorded: it expires and runs again, as a no-op (jobs are idempotent).
      log('completing job %s failed: %O', job.id, failure);
    });
    onJob?.({ ...event, state: 'completed', output });
    return true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

/** What pg-boss keeps as the failed job's output, and its dead-letter copy carries. */
export function describeError(error: unknown): object {
  if (!(error instanceof Error)) return { message: String(error) };
  const { name, message, stack } = error;
  const code = (error as { code?: unknown }).code;
  return { name, message, ...(code === undefined ? {} : { code }), stack };
}
