/**
 * Follows one migration run for observers that come and go (the admin router's JSON and
 * Server-Sent Events): its state, its counters and its failures, as plain JSON.
 */
import {
  ImageAttachError,
  InternalError,
  MigrationError,
  type ImageAttachErrorCode,
  type MigrationImageError,
} from '../errors.js';
import type { ImageLike } from '../stores/store.js';
import type { MigrationPlan } from './plan.js';

export type MigrationState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** One failed image, as JSON. */
export interface MigrationFailureJson {
  objectType: string;
  objectId: string;
  width: number;
  height: number;
  mimetype: string;
  original: boolean;
  /** The cause's code (`ENOENT` for a missing source file). */
  code: string;
  message: string;
}

export interface MigrationStatusJson {
  id: number;
  state: MigrationState;
  from: string;
  to: string;
  dryRun: boolean;
  /** `null` until the images are counted. */
  total: number | null;
  done: number;
  migrated: number;
  skipped: number;
  failed: number;
  bytes: number;
  startedAt: string;
  endedAt: string | null;
  /** The first `MAX_LISTED_FAILURES` failures; `failed` has the count. */
  failures: MigrationFailureJson[];
  /** Why the run stopped, when it did not end by itself. */
  error: { code: string; message: string } | null;
}

export const MAX_LISTED_FAILURES = 1000;

export type TrackerEvent = 'start' | 'progress' | 'end';

let nextId = 0;

export class MigrationTracker {
  readonly #status: MigrationStatusJson;
  readonly #controller = new AbortController();
  readonly #listeners = new Set<(event: TrackerEvent, status: MigrationStatusJson) => void>();
  /** Settles when the run has ended, whatever the outcome. */
  readonly finished: Promise<void>;

  constructor(
    plan: MigrationPlan<ImageLike>,
    names: { from: string; to: string; dryRun: boolean },
  ) {
    nextId += 1;
    this.#status = {
      id: nextId,
      state: 'running',
      ...names,
      total: null,
      done: 0,
      migrated: 0,
      skipped: 0,
      failed: 0,
      bytes: 0,
      startedAt: new Date().toISOString(),
      endedAt: null,
      failures: [],
      error: null,
    };
    const offStart = plan.on('start', ({ total }) => {
      this.#status.total = total;
      this.#notify('start');
    });
    const offProgress = plan.on('progress', (progress) => {
      const { done, migrated, skipped, failed, bytes } = progress;
      Object.assign(this.#status, { done, migrated, skipped, failed, bytes });
      if (progress.error !== undefined && this.#status.failures.length < MAX_LISTED_FAILURES) {
        this.#status.failures.push(failureJson(progress.error));
      }
      this.#notify('progress');
    });
    this.finished = plan.execute(undefined, { signal: this.#controller.signal }).then(
      () => this.#end('succeeded', null),
      (error: unknown) => {
        if (this.#controller.signal.aborted) this.#end('cancelled', null);
        else if (error instanceof MigrationError) this.#end('failed', null);
        else this.#end('failed', errorJson(error));
      },
    );
    void this.finished.finally(() => {
      offStart();
      offProgress();
    });
  }

  get running(): boolean {
    return this.#status.state === 'running';
  }

  /** A copy of the status, safe to serialise. */
  status(): MigrationStatusJson {
    return { ...this.#status, failures: [...this.#status.failures] };
  }

  /** Stops the run: no new copy starts, copies in flight are abandoned. */
  cancel(): void {
    this.#controller.abort();
  }

  subscribe(listener: (event: TrackerEvent, status: MigrationStatusJson) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #end(state: MigrationState, error: MigrationStatusJson['error']): void {
    Object.assign(this.#status, { state, error, endedAt: new Date().toISOString() });
    this.#notify('end');
    this.#listeners.clear();
  }

  #notify(event: TrackerEvent): void {
    const status = this.status();
    for (const listener of this.#listeners) listener(event, status);
  }
}

function failureJson(error: MigrationImageError): MigrationFailureJson {
  const { objectType, objectId, width, height, mimetype, original } = error.image;
  const cause = errorJson(error.cause);
  return { objectType, objectId: String(objectId), width, height, mimetype, original, ...cause };
}

/** Our errors show their code and message; anything else stays internal. */
function errorJson(error: unknown): { code: ImageAttachErrorCode; message: string } {
  const shown =
    error instanceof ImageAttachError
      ? error
      : new InternalError('The store failed; see the server log.');
  return { code: shown.code, message: shown.message };
}
