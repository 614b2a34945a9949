/**
 * Where pg-boss cannot run (SQLite, MySQL/MariaDB): jobs run in the process that sent them,
 * after its transaction commits, a few at a time, with the same retries. Nothing persists
 * them: a crash before a job ran loses it (see docs/reliability.md).
 */
import type { Transaction } from 'sequelize';
import { retryDelayMs } from './retry-delay.js';

export interface InProcessJob {
  readonly kind: string;
  readonly data: object;
}

export interface InProcessRunnerOptions {
  concurrency: number;
  retryLimit: number;
  retryDelay: number;
  retryBackoff: boolean;
  run(job: InProcessJob, signal: AbortSignal): Promise<unknown>;
  onFailed(job: InProcessJob, error: unknown): void;
}

export class InProcessRunner {
  private readonly waiting: Array<{ job: InProcessJob; attempt: number }> = [];
  private running = 0;
  /** Retries waiting for their delay. */
  private readonly timers = new Set<NodeJS.Timeout>();
  private idle: Array<() => void> = [];
  private readonly abort = new AbortController();

  constructor(private readonly options: InProcessRunnerOptions) {}

  /** Runs `job` once `transaction`'s root commits; a rollback on the way drops it. */
  afterCommit(transaction: Transaction, job: InProcessJob): void {
    // A savepoint's afterCommit hooks run when it is released: pass the job up to its parent
    // then, so a rollback of any level drops it. Sequelize runs the root's hooks after a
    // failed COMMIT too, which is harmless: the job finds the set as it was committed.
    transaction.afterCommit(() => {
      const parent = (transaction as Transaction & { parent?: Transaction }).parent;
      if (parent) this.afterCommit(parent, job);
      else this.enqueue(job, 0);
    });
  }

  /** Resolves when no job waits, runs or waits to be retried. */
  onIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Drops what waits, and resolves when the running jobs have ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.waiting.length = 0;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.wake();
    await this.onIdle();
  }

  private isIdle(): boolean {
    return this.running === 0 && this.waiting.length === 0 && this.timers.size === 0;
  }

  private enqueue(job: InProcessJob, attempt: number): void {
    if (this.abort.signal.aborted) return;
    this.waiting.push({ job, attempt });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.running++;
      void this.attempt(next.job, next.attempt).finally(() => {
        this.running--;
        this.pump();
        this.wake();
      });
    }
  }

  private async attempt(job: InProcessJob, attempt: number): Promise<void> {
    try {
      await this.options.run(job, this.abort.signal);
    } catch (error) {
      const { retryLimit, retryDelay, retryBackoff } = this.options;
      if (attempt >= retryLimit || this.abort.signal.aborted) {
        this.options.onFailed(job, error);
        return;
      }
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          this.enqueue(job, attempt + 1);
          this.wake();
        },
        retryDelayMs(retryDelay, retryBackoff, attempt + 1),
      );
      this.timers.add(timer);
    }
  }

  private wake(): void {
    if (!this.isIdle()) return;
    const idle = this.idle;
    this.idle = [];
    for (const resolve of idle) resolve();
  }
}
