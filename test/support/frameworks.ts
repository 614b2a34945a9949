/**
 * The three frameworks every middleware must run under, behind one small interface: a
 * `(req, res, next)` middleware stack that is also a Node request listener (for supertest).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import connect from 'connect';
import express from 'express';
import express4 from 'express4';

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

export interface TestApp {
  use(handler: Handler): TestApp;
  use(path: string, handler: Handler): TestApp;
  /** The app as a request listener. */
  readonly listener: RequestListener;
}

export interface Framework {
  readonly name: string;
  /** A new app; `trustProxy` is Express's `trust proxy` setting (Connect has none). */
  create(options?: { trustProxy?: boolean }): TestApp;
  /** This framework's JSON body parser (Express's own; Express 5's for Connect). */
  json(): Handler;
}

interface UsableApp {
  use(...args: unknown[]): unknown;
}

function wrap(app: UsableApp & RequestListener): TestApp {
  const testApp: TestApp = {
    use(pathOrHandler: string | Handler, handler?: Handler): TestApp {
      if (typeof pathOrHandler === 'string') app.use(pathOrHandler, handler);
      else app.use(pathOrHandler);
      return testApp;
    },
    listener: app,
  };
  return testApp;
}

export const FRAMEWORKS: readonly Framework[] = [
  {
    name: 'Express 5',
    create: ({ trustProxy = false } = {}) => {
      const app = express();
      app.set('trust proxy', trustProxy);
      return wrap(app);
    },
    json: () => express.json(),
  },
  {
    name: 'Express 4',
    create: ({ trustProxy = false } = {}) => {
      const app = express4();
      app.set('trust proxy', trustProxy);
      return wrap(app);
    },
    json: () => express4.json(),
  },
  {
    name: 'Connect',
    create: () => wrap(connect()),
    json: () => express.json(),
  },
];

/** Ends a response with a JSON body (Connect has no `res.json`). */
export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
