/**
 * The AsyncLocalStorage behind the store context. It lives apart from `context.ts` so that
 * `Store` can install a context in its middleware without an import cycle.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { Store } from './stores/store.js';

/**
 * One level of the context stack. Frames are immutable and linked to their parent, so two
 * async tasks that share an ancestor never see each other's pushes.
 */
export interface ContextFrame {
  readonly store: Store;
  readonly parent: ContextFrame | undefined;
  /** The HTTP request being served, for stores whose URLs depend on its host. */
  readonly request: RequestInfo | undefined;
}

/** The request a middleware saw, with the path it was mounted at when it saw it. */
export interface RequestInfo {
  readonly req: IncomingMessage;
  /** The mount path (`req.baseUrl` under Express) when the middleware ran. */
  readonly mountPath: string;
}

export const contextStorage = new AsyncLocalStorage<ContextFrame>();

export function currentFrame(): ContextFrame | undefined {
  return contextStorage.getStore();
}

/** The innermost request recorded by a store middleware, if any. */
export function currentRequest(): RequestInfo | undefined {
  for (let frame = currentFrame(); frame !== undefined; frame = frame.parent) {
    if (frame.request !== undefined) return frame.request;
  }
  return undefined;
}

export function runInFrame<T>(store: Store, request: RequestInfo | undefined, fn: () => T): T {
  return contextStorage.run({ store, parent: currentFrame(), request }, fn);
}

interface MountedRequest extends IncomingMessage {
  baseUrl?: unknown;
  originalUrl?: unknown;
}

/** The path a middleware is mounted at: Express's `req.baseUrl`, or derived from `originalUrl`. */
export function mountPathOf(req: IncomingMessage): string {
  const mounted = req as MountedRequest;
  if (typeof mounted.baseUrl === 'string') return mounted.baseUrl;
  const url = req.url ?? '';
  if (typeof mounted.originalUrl === 'string' && mounted.originalUrl.endsWith(url)) {
    return mounted.originalUrl.slice(0, mounted.originalUrl.length - url.length);
  }
  return '';
}

/**
 * Runs the rest of a request with `store` current. Body parsers call `next()` from the
 * request's stream events, whose async context was fixed when the connection opened, not by
 * us; so the request's `emit` re-enters this frame, and handlers after multer or
 * `express.json()` still see the store.
 */
export function runRequestInStore(store: Store, req: IncomingMessage, next: () => void): void {
  const frame: ContextFrame = {
    store,
    parent: currentFrame(),
    request: { req, mountPath: mountPathOf(req) },
  };
  const emit = req.emit.bind(req) as (event: string | symbol, ...args: unknown[]) => boolean;
  req.emit = function emitInStoreContext(event: string | symbol, ...args: unknown[]): boolean {
    return contextStorage.run(frame, () => emit(event, ...args));
  } as typeof req.emit;
  contextStorage.run(frame, next);
}
