/**
 * The two answers the serving middleware gives without send: a file from the hot cache, with
 * the headers send would give it, and an offload header for the web server in front.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import fresh from 'fresh';
import { contentType } from 'mime-types';
import type { HotFile } from './hot-cache.js';
import type { OffloadMode } from './serve.js';

/** send's header for `maxAge: 1 year, immutable`. */
export const CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** An SVG opened on its own runs no script and loads nothing. */
export const SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/**
 * Whether send would answer the request with the whole file or a 304: no Range and no
 * precondition (those stay with send, which knows their rules).
 */
export function isPlain(req: IncomingMessage): boolean {
  const h = req.headers;
  return (
    h.range === undefined &&
    h['if-match'] === undefined &&
    h['if-unmodified-since'] === undefined &&
    h['if-range'] === undefined
  );
}

/** Answers from memory with send's headers: type, length, validators, caching, 304. */
export function sendHot(
  req: IncomingMessage,
  res: ServerResponse,
  file: HotFile,
  relative: string,
  cors: boolean,
  ownEtag?: string,
): void {
  const lastModified = file.mtime.toUTCString();
  // The ETag send makes from a file's stat, so a client's validators survive a cache miss.
  const etag =
    ownEtag ?? `W/"${file.bytes.length.toString(16)}-${file.mtime.getTime().toString(16)}"`;
  setCommonHeaders(res, relative, cors);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Last-Modified', lastModified);
  res.setHeader('ETag', etag);
  if (fresh(req.headers, { etag, 'last-modified': lastModified })) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const type = contentType(relative.slice(relative.lastIndexOf('.')));
  if (type !== false) res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', file.bytes.length);
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : file.bytes);
}

/** Answers with the header that makes nginx or Apache send the file, and no body. */
export function sendOffload(
  res: ServerResponse,
  mode: OffloadMode,
  target: string,
  relative: string,
  cors: boolean,
): void {
  setCommonHeaders(res, relative, cors);
  const type = contentType(relative.slice(relative.lastIndexOf('.')));
  if (type !== false) res.setHeader('Content-Type', type);
  res.setHeader(mode === 'x-sendfile' ? 'X-Sendfile' : 'X-Accel-Redirect', target);
  res.statusCode = 200;
  res.end();
}

/** A relative path as a URL path: each segment percent-encoded. */
export function encodePath(relative: string): string {
  return relative.split('/').map(encodeURIComponent).join('/');
}

function setCommonHeaders(res: ServerResponse, relative: string, cors: boolean): void {
  res.setHeader('Cache-Control', CACHE_CONTROL);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (cors) res.setHeader('Access-Control-Allow-Origin', '*');
  if (relative.endsWith('.svg')) res.setHeader('Content-Security-Policy', SVG_POLICY);
}
