/**
 * The AsyncLocalStorage behind the store context. It lives apart from `context.ts` so that
 * the HTTP layer (`http/current-store.ts`, behind `Store#middleware()`) can install a context
 * without an import cycle.
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
  /**
   * `scheme://host[:port]` of the request, as Express computes it (honouring `trust proxy`).
   * @throws {UrlUnavailableError} when the request has no valid Host header.
   */
  origin(): string;
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
