/**
 * The app's own HTTP failures (unknown user, bad form value, admin refusals), answered with
 * the same `{ error: { code, message } }` shape the library's upload middleware uses.
 */
import type { IncomingMessage } from 'node:http';
import { ImageAttachError } from '../../src/index.js';

export class HttpError extends Error {
  override name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) =>
  new HttpError(404, `E_${what.toUpperCase()}_NOT_FOUND`, `There is no such ${what}.`);

/** The status, code and message a client may see; internal errors stay internal. */
export function publicError(error: unknown): {
  status: number;
  body: { error: { code: string; message: string; field?: string } };
} {
  if (error instanceof HttpError || (error instanceof ImageAttachError && error.status < 500)) {
    const field = (error as { field?: unknown }).field;
    return {
      status: error.status ?? 500,
      body: {
        error: {
          code: error.code,
          message: error.message,
          ...(typeof field === 'string' ? { field } : {}),
        },
      },
    };
  }
  const status = statusOf(error);
  if (status !== undefined && status >= 400 && status < 500) {
    // body-parser's and serve-static's errors carry a status and a safe message.
    const code = status === 404 ? 'E_NOT_FOUND' : status === 413 ? 'E_TOO_LARGE' : 'E_BAD_REQUEST';
    return { status, body: { error: { code, message: (error as Error).message } } };
  }
  return {
    status: 500,
    body: { error: { code: 'E_INTERNAL', message: 'Something went wrong; see the server log.' } },
  };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Calls `done` once the request body is read, so a refusal never cuts off a client still sending. */
export function afterBody(req: IncomingMessage, done: () => void): void {
  if (req.readableEnded || req.destroyed) {
    done();
    return;
  }
  req.once('end', done);
  req.once('close', done);
  req.resume();
}
