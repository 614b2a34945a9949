/**
 * The current-store middleware behind `Store#middleware()`: it serves the folder a store
 * declares (`Store#servedFolder`) and runs every other request with the store current, so
 * models and URLs inside the request use it.
 */
import type { IncomingMessage } from 'node:http';
import { contextStorage, currentFrame, type ContextFrame } from '../context-storage.js';
import type { Store } from '../stores/store.js';
import type { Middleware } from './middleware.js';
import { requestOrigin } from './request-host.js';
import { serveFolder } from './serve.js';

/**
 * A middleware that serves what `store` declares, then runs the rest of the request with
 * `store` as the current store. `first`, when given, runs in place of the declared folder's
 * server (a `MirrorStore` runs its primary's middleware there).
 *
 * @example
 * app.use(storeMiddleware(store)); // what store.middleware() returns
 */
export function storeMiddleware(store: Store, first?: Middleware): Middleware {
  const folder = store.servedFolder;
  const before = first ?? (folder === undefined ? undefined : serveFolder(folder));
  if (before === undefined) {
    return function currentStoreMiddleware(req, _res, next) {
      runRequestInStore(store, req, next);
    };
  }
  return function currentStoreMiddleware(req, res, next) {
    before(req, res, (err?: unknown) => {
      if (err !== undefined) next(err);
      else runRequestInStore(store, req, next);
    });
  };
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
    request: { req, mountPath: mountPathOf(req), origin: () => requestOrigin(req) },
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
