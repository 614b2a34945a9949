/**
 * The shape every middleware of the package has: plain `(req, res, next)`, so it runs under
 * Express 4, Express 5 and Connect alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A plain `(req, res, next)` middleware: runs under Express 4, Express 5 and Connect. */
export type Middleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;
