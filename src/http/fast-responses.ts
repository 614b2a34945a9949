/**
 * The answers the serving middleware gives without send: a file from the hot cache, with the
 * headers send would give it, and an offload header for the web server in front; the headers
 * are shared with the disk path of `send-from-disk.ts`.
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
  if (!setFileHeaders(req, res, file.bytes.length, file.mtime, relative, cors, ownEtag)) return;
  res.end(req.method === 'HEAD' ? undefined : file.bytes);
}

/**
 * Sets send's headers for a whole file of `size` bytes changed at `mtime`: caching, type,
 * length and validators (`ownEtag` replaces the stat ETag). Answers 304 itself and returns `false` when the client's copy is
 * fresh; otherwise sets status 200 and returns `true`, leaving the body to the caller.
 */
export function setFileHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  size: number,
  mtime: Date,
  relative: string,
  cors: boolean,
  ownEtag?: string,
): boolean {
  const lastModified = mtime.toUTCString();
  // The ETag send makes from a file's stat, so a client's validators survive either path; a
  // negotiated representation brings its own.
  const etag = ownEtag ?? `W/"${size.toString(16)}-${mtime.getTime().toString(16)}"`;
  setCommonHeaders(res, relative, cors);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Last-Modified', lastModified);
  res.setHeader('ETag', etag);
  if (fresh(req.headers, { etag, 'last-modified': lastModified })) {
    res.statusCode = 304;
    res.end();
    return false;
  }
  const type = contentType(relative.slice(relative.lastIndexOf('.')));
  if (type !== false) res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', size);
  res.statusCode = 200;
  return true;
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
