/**
 * The small JSON requests and answers of the library's own routers (`migrationRouter`,
 * `directUploads`): bodies read whole, within a limit, before anything is decided, and answers
 * never cached.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Whether the request says it sends JSON (a cross-site form cannot). */
export function isJson(req: IncomingMessage): boolean {
  return /^application\/json\b/i.test(req.headers['content-type'] ?? '');
}

export interface ReadJsonOptions {
  /** The largest body read; a larger one is `undefined`. */
  maxBytes: number;
  /** What an empty body is (`undefined`, like any other body that is not JSON, by default). */
  empty?: unknown;
}

/**
 * The JSON body: the one a body parser left on `req.body`, else read here; `undefined` when it
 * is larger than `maxBytes` or not JSON.
 */
export async function readJsonBody(
  req: IncomingMessage,
  { maxBytes, empty }: ReadJsonOptions,
): Promise<unknown> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== undefined && req.readableEnded) return parsed;
  let size = 0;
  const chunks: Buffer[] = [];
  // Read to the end even past the limit: destroying the request would cut off the answer.
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  if (size > maxBytes) return undefined;
  if (size === 0) return parsed ?? empty;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}
