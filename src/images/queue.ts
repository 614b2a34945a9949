/**
 * The bounded queue every decode of an upload runs through. A burst of uploads waits here, or
 * is refused with 503 once the queue is full, instead of decoding everything at once and
 * exhausting memory and sharp's thread pool.
 */
import { AsyncResource } from 'node:async_hooks';
import { availableParallelism, totalmem } from 'node:os';
import { InvalidOptionError, QueueFullError } from '../errors.js';

export interface ProcessingQueueOptions {
  /**
   * Tasks run at once.
   * @default the machine's cores, at most libuv's thread pool size (sharp runs there) and at
   * most one per 256 MiB of memory; at least 1
   */
  concurrency?: number;
  /**
   * Tasks that may wait beyond those running; more are refused with {@link QueueFullError}.
   * @default 16 × concurrency
   */
  maxQueued?: number;
  /**
   * Seconds a refused client is told to wait (`Retry-After`).
   * @default 5
   */
  retryAfter?: number;
}

const MEMORY_PER_TASK = 256 * 1024 * 1024;
const QUEUED_PER_SLOT = 16;
const DEFAULT_RETRY_AFTER = 5;

/** The concurrency the default queue uses on this machine. */
export function machineConcurrency(): number {
  const threadPool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const byMemory = Math.floor(totalmem() / MEMORY_PER_TASK);
  return Math.max(1, Math.min(availableParallelism(), threadPool, byMemory));
}

/**
 * A FIFO of async tasks with at most `concurrency` running and `maxQueued` waiting.
 *
 * @example
 * const queue = new ProcessingQueue({ concurrency: 2, maxQueued: 10 });
 * const info = await queue.run(() => sharp(path).metadata());
 */
export class ProcessingQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  readonly retryAfter: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: ProcessingQueueOptions = {}) {
    this.concurrency = options.concurrency ?? machineConcurrency();
    this.maxQueued = options.maxQueued ?? QUEUED_PER_SLOT * this.concurrency;
    this.retryAfter = options.retryAfter ?? DEFAULT_RETRY_AFTER;
    if (!Number.isSafeInteger(this.concurrency) || this.concurrency < 1) {
      throw new InvalidOptionError('concurrency', 'must be an integer of at least 1');
    }
    if (!Number.isSafeInteger(this.maxQueued) || this.maxQueued < 0) {
      throw new InvalidOptionError('maxQueued', 'must be an integer of at least 0');
    }
    if (!Number.isSafeInteger(this.retryAfter) || this.retryAfter < 0) {
      throw new InvalidOptionError('retryAfter', 'must be a whole number of seconds');
    }
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Whether {@link run} would refuse a task now. */
  get full(): boolean {
    return this.#running >= this.concurrency && this.#waiting.length >= this.maxQueued;
  }

  /**
   * Runs `task` once a slot is free and settles as it settles.
   * @throws {QueueFullError} (rejection, status 503) when the queue is full.
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.full) return Promise.reject(new QueueFullError(this.retryAfter));
    // A waiting task starts from another task's completion: bind it to its caller's async
    // context, so the request's store (AsyncLocalStorage) is the one it sees.
    const bound = AsyncResource.bind(task);
    return new Promise<T>((resolve, reject) => {
      // The slot is taken synchronously, so two calls in one tick cannot both take the last one.
      const start = () => {
        this.#running += 1;
        void Promise.resolve()
          .then(bound)
          .then(resolve, reject)
          .finally(() => {
            this.#running -= 1;
            this.#waiting.shift()?.();
          });
      };
      if (this.#running < this.concurrency) start();
      else this.#waiting.push(start);
    });
  }
}

let defaultQueue: ProcessingQueue | undefined;

/** The process-wide queue that uploads share unless given their own; sized to the machine. */
export function defaultProcessingQueue(): ProcessingQueue {
  defaultQueue ??= new ProcessingQueue();
  return defaultQueue;
}
