/**
 * The upload's full decode, handed from `uploadImage` to the `attachImage` right after it in
 * the same route, so that one decode in the decoder pool both checks the image and renders its
 * thumbnails. `uploadImage` hands it on only when it sees `attachImage` next in Express's route
 * stack (`app.post(path, uploadImage(…), attachImage(…))`); anywhere else (Connect, separate
 * `app.use` layers, a handler in between) it decodes before calling `next()`, as it always has,
 * so no other code ever sees an unchecked file.
 */
import type { IncomingMessage } from 'node:http';
import type { PendingDecode } from './inspect.js';

const attachMiddlewares = new WeakSet<object>();
const deferring = new WeakSet<IncomingMessage>();
const pending = new WeakMap<IncomingMessage, Map<string, PendingDecode>>();

/** Marks a middleware as one that runs an upload's pending decode itself. */
export function takesPendingDecodes<T extends object>(middleware: T): T {
  attachMiddlewares.add(middleware);
  return middleware;
}

/**
 * Defers the decode of `req`'s upload when the layer after `self` in the request's route is a
 * middleware {@link takesPendingDecodes} marked.
 */
export function deferDecodeIfAttachFollows(req: IncomingMessage, self: object): void {
  const stack = (req as { route?: { stack?: unknown } }).route?.stack;
  if (!Array.isArray(stack)) return;
  const at = stack.findIndex((layer) => handleOf(layer) === self);
  const next: unknown = at < 0 ? undefined : handleOf(stack[at + 1]);
  if (typeof next === 'function' && attachMiddlewares.has(next)) deferring.add(req);
}

/** Whether the upload middleware deferred `req`'s decode to the attaching middleware. */
export function decodeDeferred(req: IncomingMessage): boolean {
  return deferring.has(req);
}

/** Keeps the decode of the file staged at `path` for the attaching middleware. */
export function deferDecode(req: IncomingMessage, path: string, decode: PendingDecode): void {
  const decodes = pending.get(req) ?? new Map<string, PendingDecode>();
  decodes.set(path, decode);
  pending.set(req, decodes);
}

/** The decode still owed for the file staged at `path`, once: whoever takes it must run it. */
export function takePendingDecode(req: IncomingMessage, path: string): PendingDecode | undefined {
  const decode = pending.get(req)?.get(path);
  pending.get(req)?.delete(path);
  return decode;
}

function handleOf(layer: unknown): unknown {
  return typeof layer === 'object' && layer !== null
    ? (layer as { handle?: unknown }).handle
    : undefined;
}
