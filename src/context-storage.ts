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
  /** Set by `pushStoreContext`, so that `popStoreContext` never pops a scoped frame. */
  readonly pushed?: boolean;
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
  if (typeof mounted.originalUrl !== 'string') return '';
  const path = pathOf(req.url ?? '');
  const originalPath = pathOf(mounted.originalUrl);
  if (originalPath.endsWith(path)) return originalPath.slice(0, originalPath.length - path.length);
  // Connect turns a request for exactly the mount path ("/sub") into "/".
  if (path === '/' && !originalPath.endsWith('/')) return originalPath;
  return '';
}

function pathOf(url: string): string {
  const queryAt = url.indexOf('?');
  return queryAt === -1 ? url : url.slice(0, queryAt);
}

/** The frame of the innermost store middleware each request went through. */
const requestFrames = new WeakMap<IncomingMessage, ContextFrame>();

/**
 * Runs the rest of a request with `store` current. Body parsers call `next()` from the
 * request's stream events, whose async context was fixed when the connection opened, not by
 * us; so the request's `emit` re-enters the frame of the innermost store middleware, and
 * handlers after multer or `express.json()` still see the store. `emit` is patched once per
 * request: a second store middleware (a sub-app's) replaces the frame instead of wrapping the
 * first patch, which would otherwise win.
 */
export function runRequestInStore(store: Store, req: IncomingMessage, next: () => void): void {
  const frame: ContextFrame = {
    store,
    parent: currentFrame(),
    request: { req, mountPath: mountPathOf(req) },
  };
  if (!requestFrames.has(req)) {
    const emit = req.emit.bind(req) as (event: string | symbol, ...args: unknown[]) => boolean;
    req.emit = function emitInStoreContext(event: string | symbol, ...args: unknown[]): boolean {
      const current = requestFrames.get(req);
      return current === undefined
        ? emit(event, ...args)
        : contextStorage.run(current, () => emit(event, ...args));
    } as typeof req.emit;
  }
  requestFrames.set(req, frame);
  contextStorage.run(frame, next);
}
