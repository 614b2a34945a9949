/**
 * A migration plan: lazy and re-runnable, as the original's. Nothing happens until it is
 * iterated or executed, and each iteration is a new run.
 */
import { availableParallelism } from 'node:os';
import { InvalidOptionError, MigrationError, MigrationImageError } from '../errors.js';
import { assertStore, type ImageLike, type Store } from '../stores/store.js';
import { copyImage, type CopyOutcome, type CopySettings } from './copy.js';
import {
  distributeMigration,
  type DistributableSource,
  type DistributedMigration,
  type DistributeOptions,
} from './distribute.js';
import type { ImageJobs } from '../jobs/image-jobs.js';
import type {
  ImageSource,
  MigrationEvents,
  MigrationOptions,
  MigrationProgress,
  MigrationReport,
} from './types.js';

/** Four copies per core, between 4 and 16: copies wait on I/O far more than on the CPU. */
export function defaultConcurrency(): number {
  return Math.min(16, Math.max(4, availableParallelism() * 4));
}

type Listener<T> = (payload: T) => void;

interface Settings extends CopySettings {
  concurrency: number;
  failFast: boolean;
  signal: AbortSignal | undefined;
}

/** The outcome of one image's task, as the run loop receives it. */
type Settled<I> = { task: number; image: I } & (
  { outcome: CopyOutcome; error?: undefined } | { outcome?: undefined; error: unknown }
);

/**
 * @example
 * const plan = migrate(sequelize, oldStore, newStore, { skipExisting: true, verify: 'size' });
 * console.log(`${await plan.count()} images`);
 * plan.on('progress', ({ done, total }) => console.log(`${done}/${total}`));
 * const report = await plan.execute();
 */
export class MigrationPlan<I extends ImageLike = ImageLike> implements AsyncIterable<I> {
  readonly source: Store;
  readonly destination: Store;
  readonly #images: ImageSource<I>;
  readonly #settings: Settings;
  readonly #listeners = new Map<keyof MigrationEvents<I>, Set<Listener<never>>>();

  constructor(
    images: ImageSource<I>,
    source: Store,
    destination: Store,
    options: MigrationOptions = {},
  ) {
    assertStore(source, 'source');
    assertStore(destination, 'destination');
    this.#images = images;
    this.source = source;
    this.destination = destination;
    this.#settings = resolveOptions(options);
  }

  /**
   * The models behind the plan, set by `migrate()` and `migrateClass()`: what `distribute()`
   * splits into ranges.
   * @internal
   */
  distributable: DistributableSource | undefined;

  /**
   * Runs the plan on the workers of `jobs` instead of here: its rows are split into key ranges,
   * one job each, and any number of worker processes copy them (`skipExisting` is on unless
   * the plan turned it off). Resolves once the jobs are sent; follow the returned migration's
   * `status()` or `wait()` from any process.
   * @throws {MigrationRunningError} when a migration of the same `from` and `to` runs.
   *
   * @example
   * const migration = await migrate(sequelize, disk, s3).distribute(jobs, {
   *   from: 'file:///var/images?baseUrl=/images/', to: 's3://bucket/images',
   * });
   * await migration.wait({ onStatus: (s) => console.log(`${s.percent} %`) });
   */
  distribute(jobs: ImageJobs, options: DistributeOptions): Promise<DistributedMigration> {
    if (this.distributable === undefined) {
      throw new TypeError('only plans made by migrate() or migrateClass() can be distributed');
    }
    return distributeMigration(this.distributable, jobs, options);
  }

  /** How many images a run would go through now (one `COUNT` per model). */
  count(): Promise<number> {
    return this.#images.count();
  }

  /** Subscribes to an event of every run; returns the function that unsubscribes. */
  on<K extends keyof MigrationEvents<I>>(
    event: K,
    listener: Listener<MigrationEvents<I>[K]>,
  ): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof MigrationEvents<I>>(
    event: K,
    listener: Listener<MigrationEvents<I>[K]>,
  ): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /**
   * Runs the plan, yielding each image once it is in the destination (copied or skipped).
   * Failed images are collected; when the run ends with any, the iteration throws a
   * {@link MigrationError} listing them. Breaking out of the loop stops the run.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<I, void, undefined> {
    for await (const progress of this.#run(this.#settings.signal)) yield progress.image;
  }

  /**
   * Runs the plan to the end and resolves with its report; `callback` gets each image that is
   * in the destination. Rejects with a {@link MigrationError} when any image failed (its
   * `failures` have the causes), or with the signal's reason when aborted.
   */
  async execute(
    callback?: (image: I, progress: MigrationProgress<I>) => void | Promise<void>,
    options: { signal?: AbortSignal } = {},
  ): Promise<MigrationReport> {
    if (callback !== undefined && typeof callback !== 'function') {
      throw new TypeError('callback must be a function');
    }
    const run = this.#run(options.signal ?? this.#settings.signal);
    for (;;) {
      const next = await run.next();
      if (next.done === true) return next.value;
      await callback?.(next.value.image, next.value);
    }
  }

  #emit<K extends keyof MigrationEvents<I>>(event: K, payload: MigrationEvents<I>[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      (listener as Listener<MigrationEvents<I>[K]>)(payload);
    }
  }

  async *#run(
    signal: AbortSignal | undefined,
  ): AsyncGenerator<MigrationProgress<I>, MigrationReport, undefined> {
    signal?.throwIfAborted();
    const settings = this.#settings;
    const started = Date.now();
    const total = await this.#images.count();
    // The signal may have fired while counting.
    signal?.throwIfAborted();
    const counters = { total, done: 0, migrated: 0, skipped: 0, failed: 0, bytes: 0 };
    const failures: MigrationImageError[] = [];
    // Aborts copies in flight when the caller's signal fires or the loop is left early.
    const stop = new AbortController();
    const forward = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', forward, { once: true });
    const inFlight = new Map<number, Promise<Settled<I>>>();
    const rows = this.#images.images()[Symbol.asyncIterator]();
    let exhausted = false;
    let task = 0;
    this.#emit('start', { total, dryRun: settings.dryRun });
    try {
      for (;;) {
        while (!exhausted && !stop.signal.aborted && inFlight.size < settings.concurrency) {
          if (settings.failFast && failures.length > 0) break;
          const next = await rows.next();
          if (next.done === true) {
            exhausted = true;
            break;
          }
          const image = next.value;
          const id = (task += 1);
          this.#emit('migrating', { image });
          inFlight.set(
            id,
            copyImage(image, this.source, this.destination, settings, stop.signal).then(
              (outcome): Settled<I> => ({ task: id, image, outcome }),
              (error: unknown): Settled<I> => ({ task: id, image, error }),
            ),
          );
        }
        if (inFlight.size === 0) break;
        const settled = await Promise.race(inFlight.values());
        inFlight.delete(settled.task);
        // A copy cut short by the signal is not the image's fault: it is neither done nor failed.
        if (settled.error !== undefined && stop.signal.aborted) continue;
        counters.done += 1;
        let progress: MigrationProgress<I>;
        if (settled.outcome !== undefined) {
          counters[settled.outcome.status] += 1;
          counters.bytes += settled.outcome.bytes;
          const { status, bytes } = settled.outcome;
          progress = { ...counters, image: settled.image, status, imageBytes: bytes };
        } else {
          const error = new MigrationImageError(keyOf(settled.image), { cause: settled.error });
          failures.push(error);
          counters.failed += 1;
          progress = { ...counters, image: settled.image, status: 'failed', imageBytes: 0, error };
        }
        this.#emit('progress', progress);
        if (progress.status !== 'failed') yield progress;
      }
      signal?.throwIfAborted();
    } finally {
      signal?.removeEventListener('abort', forward);
      if (inFlight.size > 0) {
        stop.abort(new DOMException('The migration run was stopped.', 'AbortError'));
        await Promise.all(inFlight.values());
      }
      await rows.return?.();
    }
    const report: MigrationReport = {
      ...counters,
      failures,
      dryRun: settings.dryRun,
      elapsed: Date.now() - started,
    };
    this.#emit('end', report);
    if (failures.length > 0) throw new MigrationError(failures, counters);
    return report;
  }
}

function keyOf(image: ImageLike) {
  const { objectType, objectId, width, height, mimetype, original } = image;
  return { objectType, objectId: BigInt(objectId), width, height, mimetype, original };
}

function resolveOptions(options: MigrationOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object');
  }
  const { concurrency, verify, skipExisting, dryRun, signal, failFast, pageSize } = options;
  if (
    concurrency !== undefined &&
    !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 1024)
  ) {
    throw new InvalidOptionError('concurrency', 'must be an integer from 1 to 1024');
  }
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1)) {
    throw new InvalidOptionError('pageSize', 'must be a positive integer');
  }
  if (verify !== undefined && ![true, false, 'size', 'checksum'].includes(verify)) {
    throw new InvalidOptionError('verify', "must be true, false, 'size' or 'checksum'");
  }
  for (const [name, value] of Object.entries({ skipExisting, dryRun, failFast })) {
    if (value !== undefined && typeof value !== 'boolean') {
      throw new InvalidOptionError(name, 'must be a boolean');
    }
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'must be an AbortSignal');
  }
  return {
    concurrency: concurrency ?? defaultConcurrency(),
    verify:
      verify === true ? 'checksum' : verify === 'size' || verify === 'checksum' ? verify : 'none',
    skipExisting: skipExisting ?? false,
    dryRun: dryRun ?? false,
    failFast: failFast ?? false,
    signal,
  };
}

/** The page size a plan's options ask for. */
export function pageSizeOf(options: MigrationOptions | undefined): number {
  return options?.pageSize ?? 500;
}
