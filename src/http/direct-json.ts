/**
 * The JSON of `directUploads`' routes: the completion's small body (`{ "token": … }`), read
 * whole before anything is decided, and the answers, never cached.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidBodyError } from '../errors.js';

const MAX_BODY = 8 * 1024;

/** Whether the request says it sends JSON (a cross-site form cannot). */
export function isJson(req: IncomingMessage): boolean {
  return /^application\/json\b/i.test(req.headers['content-type'] ?? '');
}

/** The JSON body: the one a body parser left on `req.body`, else read here, up to 8 KiB. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== undefined && req.readableEnded) return parsed;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  const invalid = new InvalidBodyError('The body must be a JSON object { "token": … }.');
  if (size > MAX_BODY) throw invalid;
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid;
    return body;
  } catch {
    throw invalid;
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
