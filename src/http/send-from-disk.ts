/**
 * A plain GET or HEAD of a small file under the served folder, answered from disk without send.
 * send costs four thread-pool round trips per file (stat, open, read, close) and a stream, an
 * event emitter and finish listeners per request; on a busy machine each round trip costs far
 * more than the system call it carries (the profile in docs/benchmarks.md). Here a small file
 * costs one: `open`, which may wait for the disk to find the file, runs in the pool; the
 * `fstat` of the open descriptor, one read of at most 64 KiB and `close` run on the event loop,
 * as nginx reads files in its event loop: microseconds from the page cache, where a served
 * thumbnail is. Larger files, folders, ranges and preconditions stay with send.
 */
import { closeSync, constants, fstatSync, open, readSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setFileHeaders } from './fast-responses.js';

/** Files up to this size are read in one call and sent with `res.end`; send streams larger ones. */
const ONE_READ_MAX = 64 * 1024;

/** Errors of `open` that mean "no such file here", as send's `onStatError` maps them. */
const NOT_FOUND = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);

/** How the request ends when this path does not answer it. */
export interface DiskFallbacks {
  /** Answers a status (404 for a missing file). */
  status(status: number): void;
  /** Hands the request to send (a folder, a large file, a file that changed or failed a read). */
  send(): void;
  /** A failure of the server's (permissions, descriptors), as `next(err)`. */
  fail(error: unknown): void;
}

/**
 * Answers `req` with the file at `path` (its real path, checked by the caller), or ends it
 * through `fallbacks`.
 */
export function sendFromDisk(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  relative: string,
  cors: boolean,
  fallbacks: DiskFallbacks,
  etag?: string,
): void {
  // O_NOFOLLOW: the caller checked the real path; a symlink swapped in since is not followed.
  open(path, constants.O_RDONLY | constants.O_NOFOLLOW, (openError, fd) => {
    if (openError !== null) {
      if (NOT_FOUND.has(openError.code ?? '')) fallbacks.status(404);
      else fallbacks.fail(openError);
      return;
    }
    let stats: Stats;
    try {
      stats = fstatSync(fd);
    } catch (error) {
      closeQuietly(fd);
      fallbacks.fail(error);
      return;
    }
    // send streams large files (measured faster than a stream over this descriptor).
    if (!stats.isFile() || stats.size > ONE_READ_MAX) {
      closeQuietly(fd);
      fallbacks.send();
      return;
    }
    // Headers first: a fresh copy (304) or a HEAD needs no read.
    if (!setFileHeaders(req, res, stats.size, stats.mtime, relative, cors, etag)) {
      closeQuietly(fd);
      return;
    }
    if (req.method === 'HEAD' || stats.size === 0) {
      closeQuietly(fd);
      res.end();
      return;
    }
    const bytes = Buffer.allocUnsafe(stats.size);
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, bytes, 0, bytes.length, 0);
    } catch {
      bytesRead = -1;
    }
    closeQuietly(fd);
    // Truncated while we read it, or unreadable: send reads the file as it is now, and maps
    // its errors, with headers of its own.
    if (bytesRead !== bytes.length) fallbacks.send();
    else res.end(bytes);
  });
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // A descriptor we opened and never handed out: nothing to do if closing fails.
  }
}
