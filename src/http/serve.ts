/**
 * Serves a store's folder under a URL prefix, on top of serve-static (ETag, Last-Modified,
 * 304, Range, HEAD), with the checks serve-static leaves out: no path, symlink or dotfile can
 * reach a byte outside the folder, and nothing served can run as active content.
 */
import { realpathSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { resolve, sep } from 'node:path';
import serveStatic from 'serve-static';
import vary from 'vary';
import { InvalidOptionError } from '../errors.js';
import { encodePath, isPlain, sendHot, sendOffload, SVG_POLICY } from './fast-responses.js';
import { HotFileCache, type HotFileCacheOptions } from './hot-cache.js';
import { isNegotiated, negotiateFile } from './negotiate.js';
import { sendFromDisk } from './send-from-disk.js';
import type { Middleware } from './middleware.js';

/** Who sends the bytes when a web server in front does: nginx, or Apache / lighttpd. */
export type OffloadMode = 'x-accel-redirect' | 'x-sendfile';

export interface ServeImagesOptions {
  /** The folder to serve. */
  root: string;
  /** The URL path the folder is served under, e.g. `images` for `/images/…`. */
  prefix: string;
  /**
   * Add `Access-Control-Allow-Origin: *`, so pages on other origins may read the images
   * (canvas, fetch).
   * @default false
   */
  cors?: boolean;
  /**
   * Answer small files from memory: `true` for the defaults (files up to 64 KiB, 64 MiB in
   * all), options, or a {@link HotFileCache} of your own; `false` reads every file from disk.
   * A file is checked with `stat` on every request, so a replaced file is never served stale.
   * @default true
   */
  hotCache?: boolean | HotFileCacheOptions | HotFileCache;
  /**
   * Let the web server in front send the file: after the same path checks, answer with
   * `X-Accel-Redirect: {internalLocation}{path}` (nginx) or `X-Sendfile: {absolute path}`
   * (Apache mod_xsendfile, lighttpd) and no body. Without it the middleware sends the bytes.
   * @default undefined
   */
  offload?: OffloadMode;
  /**
   * The nginx `internal` location that serves the folder, for `offload: 'x-accel-redirect'`.
   * @default '/_internal/{prefix}/'
   */
  internalLocation?: string;
  /**
   * Content negotiation: a request for a JPEG, PNG, GIF or TIFF whose AVIF or WebP sibling
   * exists (the same size in another format, see `generateThumbnails`' `formats`) is answered
   * with the sibling when `Accept` names its type (`image/avif`, then `image/webp`), with
   * `Vary: Accept` and an ETag per representation. `*\/*` alone never gets one.
   * @default false
   */
  negotiate?: boolean;
}

/**
 * A folder to serve, with its options checked and resolved once: what a store declares as its
 * `servedFolder`, and what the serving middleware runs on.
 */
export interface ServedFolder {
  /** The folder, as an absolute path. */
  readonly root: string;
  /** The URL path it is served under, without leading or trailing `/` (e.g. `images`). */
  readonly prefix: string;
  readonly cors: boolean;
  /** The cache every middleware serving this folder shares; `undefined` when it is off. */
  readonly hotCache: HotFileCache | undefined;
  readonly offload: OffloadMode | undefined;
  /** The nginx `internal` location, with a leading and a trailing `/`. */
  readonly internalLocation: string;
  /** Whether AVIF/WebP siblings are negotiated by `Accept` (see `negotiate`). */
  readonly negotiate: boolean;
}

/** URLs change with every new file (`?_ts=`), so a response never needs revalidating. */
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** Normalises a prefix to its path segments, refusing ones that are empty or climb. */
export function normalizePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string') throw new InvalidOptionError('prefix', 'must be a string');
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  const segments = trimmed.split('/');
  if (trimmed === '' || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidOptionError(
      'prefix',
      `must be a URL path such as "images/", not ${JSON.stringify(prefix)}`,
    );
  }
  return trimmed;
}

/**
 * A middleware serving `root` at `/{prefix}/…`. Requests outside the prefix go to `next()`;
 * under it, a missing file is a plain-text 404 that does not fall through.
 *
 * @example
 * app.use(serveImages({ root: '/var/images', prefix: 'images' }));
 */
export function serveImages(options: ServeImagesOptions): Middleware {
  return serveFolder(resolveServedFolder(options));
}

/**
 * Checks serving options once and resolves their defaults, throwing `InvalidOptionError`
 * naming the bad option; the hot cache it makes is shared by every middleware of the folder.
 */
export function resolveServedFolder(options: ServeImagesOptions): ServedFolder {
  if (typeof options.root !== 'string' || options.root === '') {
    throw new InvalidOptionError('root', 'must be the path of the folder to serve');
  }
  const prefix = normalizePrefix(options.prefix);
  if (options.cors !== undefined && typeof options.cors !== 'boolean') {
    throw new InvalidOptionError('cors', 'must be a boolean');
  }
  if (options.negotiate !== undefined && typeof options.negotiate !== 'boolean') {
    throw new InvalidOptionError('negotiate', 'must be a boolean');
  }
  return {
    root: resolve(options.root),
    prefix,
    cors: options.cors ?? false,
    hotCache: hotCacheOf(options.hotCache),
    offload: offloadOf(options.offload),
    internalLocation: internalLocationOf(options.internalLocation, `/${prefix}/`),
    negotiate: options.negotiate ?? false,
  };
}

/** The middleware serving a resolved folder (see {@link serveImages}). */
export function serveFolder(folder: ServedFolder): Middleware {
  const { root, cors, offload, negotiate } = folder;
  const mount = `/${folder.prefix}/`;
  const hot = folder.hotCache;
  const internal = folder.internalLocation;
  // Known only once the folder exists, so it is not remembered before.
  let realRoot: string | undefined;

  const serve = serveStatic(root, {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    fallthrough: false,
    maxAge: ONE_YEAR_MS,
    immutable: true,
    setHeaders(res, path) {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      if (cors) res.setHeader('Access-Control-Allow-Origin', '*');
      if (path.endsWith('.svg')) res.setHeader('Content-Security-Policy', SVG_POLICY);
    },
  });

  return function serveImagesMiddleware(req, res, next) {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    if (!pathname.startsWith(mount)) {
      next();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendStatus(res, 405, { Allow: 'GET, HEAD' });
      return;
    }
    let rest = pathname.slice(mount.length - 1);
    let relative = safeRelativePath(rest);
    if (typeof relative === 'number') {
      sendStatus(res, relative);
      return;
    }
    // A symlink planted in the folder must not lead out of it; say 404 to reveal nothing.
    // The check is synchronous on purpose: realpath of a cached path takes microseconds, while
    // an async one costs a thread-pool round trip per request (measured: 0.88 of serve-static's
    // requests per second async, 0.96 sync; see docs/benchmarks.md).
    realRoot ??= realpathOrUndefined(root);
    const inRoot = (path: string) => {
      const found = realpathOrUndefined(path);
      return realRoot !== undefined && found?.startsWith(realRoot + sep) === true
        ? found
        : undefined;
    };
    let real = inRoot(resolve(root, relative));
    let etag: string | undefined;
    if (real !== undefined && negotiate && isNegotiated(relative)) {
      vary(res, 'Accept');
      const chosen = negotiateFile(req, relative, real, inRoot);
      if (chosen !== undefined && chosen.relative !== relative)
        rest = `/${encodePath(chosen.relative)}`;
      ({ relative, real, etag } = chosen ?? { relative, real });
    }
    if (real === undefined) {
      sendStatus(res, 404);
      return;
    }
    if (offload !== undefined) {
      const target = offload === 'x-sendfile' ? real : internal + encodePath(relative);
      sendOffload(res, offload, target, relative, cors);
      return;
    }
    const viaSend = () => {
      req.url = rest + (queryAt === -1 ? '' : url.slice(queryAt));
      // send keeps an ETag already set, and answers 304s by it.
      if (etag !== undefined) res.setHeader('ETag', etag);
      try {
        serve(req, res, (err?: unknown) => {
          const status = statusOf(err);
          if (status !== undefined && status < 500) sendStatus(res, status, headersOf(err));
          else next(err);
        });
      } finally {
        req.url = url;
      }
    };
    if (!isPlain(req)) {
      viaSend();
      return;
    }
    const file = hot?.get(real);
    if (file !== undefined) {
      sendHot(req, res, file, relative, cors, etag);
      return;
    }
    sendFromDisk(
      req,
      res,
      real,
      relative,
      cors,
      {
        status: (status) => sendStatus(res, status),
        send: viaSend,
        fail: next,
      },
      etag,
    );
  };
}

function hotCacheOf(value: ServeImagesOptions['hotCache']): HotFileCache | undefined {
  if (value === undefined || value === true) return new HotFileCache();
  if (value === false) return undefined;
  if (value instanceof HotFileCache) return value;
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('hotCache', 'must be a boolean, options or a HotFileCache');
  }
  return new HotFileCache(value);
}

function offloadOf(value: unknown): OffloadMode | undefined {
  if (value === undefined || value === 'x-accel-redirect' || value === 'x-sendfile') return value;
  throw new InvalidOptionError(
    'offload',
    `must be 'x-accel-redirect' or 'x-sendfile', not ${JSON.stringify(value)}`,
  );
}

/** The internal location with one leading and one trailing slash. */
function internalLocationOf(value: unknown, mount: string): string {
  if (value === undefined) return `/_internal${mount}`;
  if (typeof value !== 'string' || !value.startsWith('/') || /[\0\s?#]/.test(value)) {
    throw new InvalidOptionError('internalLocation', 'must be a URL path such as "/_internal/"');
  }
  return value.endsWith('/') ? value : `${value}/`;
}

/** The real path, or `undefined` when there is nothing there (or it cannot be resolved). */
function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/**
 * The decoded path below the prefix, or the status that refuses it: 400 for bad encoding or
 * NUL, 404 for a dotfile (temporary files of writes in progress are dotfiles), 403 for `..`.
 */
function safeRelativePath(rest: string): string | number {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return 400;
  }
  if (decoded.includes('\0')) return 400;
  if (decoded.includes('\\')) return 404;
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.')) return 403;
  if (segments.some((s) => s === '' || s.startsWith('.'))) return 404;
  return segments.join('/');
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' ? value : undefined;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  416: 'Range Not Satisfiable',
};

function headersOf(err: unknown): Record<string, string> {
  const headers = (err as { headers?: unknown }).headers;
  return typeof headers === 'object' && headers !== null ? (headers as Record<string, string>) : {};
}

function sendStatus(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // send may have set the file's headers before it failed; an error response has none of them.
  for (const name of res.getHeaderNames()) {
    if (name !== 'access-control-allow-origin') res.removeHeader(name);
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  const body = `${status} ${STATUS_TEXT[status] ?? 'Error'}\n`;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}
