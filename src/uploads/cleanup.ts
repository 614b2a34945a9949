/**
 * The temporary files of a request, removed once its response is closed (sent, failed or
 * abandoned by the client) and nothing holds them any longer.
 */
import { unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The staged files of one request. */
export class RequestFiles {
  readonly #paths = new Set<string>();
  #holds = 0;
  #closed = false;

  constructor(res: ServerResponse) {
    if (res.closed) this.#closed = true;
    else res.once('close', () => this.close());
  }

  /** Whether the response has closed: files added now are removed at once. */
  get closed(): boolean {
    return this.#closed;
  }

  add(path: string): void {
    this.#paths.add(path);
    if (this.#closed) this.#sweep();
  }

  /** Keeps the files until the returned function is called (e.g. while they are stored). */
  hold(): () => void {
    this.#holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds -= 1;
      this.#sweep();
    };
  }

  close(): void {
    this.#closed = true;
    this.#sweep();
  }

  #sweep(): void {
    if (!this.#closed || this.#holds > 0) return;
    // A file that cannot be removed must not bring the process down; nothing else can be done.
    for (const path of this.#paths) removeFile(path).catch(() => undefined);
    this.#paths.clear();
  }
}

const registry = new WeakMap<IncomingMessage, RequestFiles>();

/** The files of `req`, tracked against `res` (or Express's `req.res`) from the first call. */
export function requestFiles(req: IncomingMessage, res?: ServerResponse): RequestFiles | undefined {
  let files = registry.get(req);
  if (files !== undefined) return files;
  const response = res ?? (req as IncomingMessage & { res?: unknown }).res;
  if (!isServerResponse(response)) return undefined;
  files = new RequestFiles(response);
  registry.set(req, files);
  return files;
}

/** Removes a file; one already gone is fine. */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function isServerResponse(value: unknown): value is ServerResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ServerResponse).once === 'function' &&
    typeof (value as ServerResponse).setHeader === 'function'
  );
}
