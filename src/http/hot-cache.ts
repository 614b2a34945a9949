/**
 * Small served files kept in memory, each checked against a fresh `stat` on every request, so
 * a file replaced at the same path (a staged replacement copied over the old one, or a rename)
 * is never answered with its old bytes.
 */
import { type BigIntStats, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { InvalidOptionError } from '../errors.js';

export interface HotFileCacheOptions {
  /**
   * Files larger than this many bytes are never kept (they are served from disk).
   * @default 65536
   */
  maxFileSize?: number;
  /**
   * The most bytes kept in all; the least recently served files are dropped first.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
}

/** What the cache holds of one file. */
export interface HotFile {
  bytes: Buffer;
  /** When the file was last modified, for `Last-Modified` and the ETag. */
  mtime: Date;
}

interface Entry extends HotFile {
  identity: string;
}

const DEFAULT_MAX_FILE_SIZE = 64 * 1024;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/**
 * File times are kept at the kernel's clock tick (milliseconds), so a file rewritten twice in
 * one tick with the same size keeps the same `stat`. A file is kept only once it has not been
 * modified for this long (git's "racily clean" rule); a later write then changes its times.
 */
const SETTLED_MS = 2000;

/**
 * An LRU of small files keyed by real path. `get` answers only when the file's inode, size,
 * mtime and ctime (nanoseconds) are those it had when it was read.
 *
 * @example
 * app.use(serveImages({ root, prefix: 'images', hotCache: new HotFileCache({ maxBytes: 2 ** 24 }) }));
 */
export class HotFileCache {
  readonly maxFileSize: number;
  readonly maxBytes: number;
  /** Requests answered from memory, and those that were not, since the cache was made. */
  readonly stats = { hits: 0, misses: 0 };
  #bytes = 0;
  readonly #entries = new Map<string, Entry>();
  readonly #filling = new Set<string>();

  constructor(options: HotFileCacheOptions = {}) {
    this.maxFileSize = positiveInteger(
      'hotCache.maxFileSize',
      options.maxFileSize,
      DEFAULT_MAX_FILE_SIZE,
    );
    this.maxBytes = positiveInteger('hotCache.maxBytes', options.maxBytes, DEFAULT_MAX_BYTES);
  }

  /** Bytes held now. */
  get size(): number {
    return this.#bytes;
  }

  /**
   * The file at `path` when the cache holds its current bytes; otherwise `undefined`, and the
   * file is read in the background when it is small and settled, for the next request.
   */
  get(path: string): HotFile | undefined {
    let stats: BigIntStats | undefined;
    try {
      stats = statSync(path, { bigint: true, throwIfNoEntry: false });
    } catch {
      stats = undefined;
    }
    const entry = this.#entries.get(path);
    if (stats === undefined || !stats.isFile()) {
      if (entry !== undefined) this.#drop(path, entry);
      this.stats.misses += 1;
      return undefined;
    }
    if (entry !== undefined && entry.identity === identityOf(stats)) {
      // Map order is the LRU order: the last served goes to the end.
      this.#entries.delete(path);
      this.#entries.set(path, entry);
      this.stats.hits += 1;
      return entry;
    }
    if (entry !== undefined) this.#drop(path, entry);
    this.stats.misses += 1;
    if (stats.size <= BigInt(this.maxFileSize) && isSettled(stats)) this.#fill(path, stats);
    return undefined;
  }

  /** Forgets every file. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #fill(path: string, before: BigIntStats): void {
    if (this.#filling.has(path)) return;
    this.#filling.add(path);
    const identity = identityOf(before);
    void (async () => {
      const bytes = await readFile(path);
      const after = await stat(path, { bigint: true });
      // Written while read: keep nothing, the next request reads it again.
      if (identityOf(after) !== identity || BigInt(bytes.length) !== after.size) return;
      const old = this.#entries.get(path);
      if (old !== undefined) this.#drop(path, old);
      this.#entries.set(path, { bytes, mtime: statsDate(after.mtimeNs), identity });
      this.#bytes += bytes.length;
      for (const [oldest, entry] of this.#entries) {
        if (this.#bytes <= this.maxBytes) break;
        this.#drop(oldest, entry);
      }
    })()
      .catch(() => undefined)
      .finally(() => this.#filling.delete(path));
  }

  #drop(path: string, entry: Entry): void {
    this.#entries.delete(path);
    this.#bytes -= entry.bytes.length;
  }
}

/**
 * The `mtime` a plain `fs.Stats` has for `ns`: rounded to the millisecond, where a
 * `BigIntStats`' is cut. The ETag and Last-Modified from disk are made from a plain stat, so
 * the cache's must be too, or half of all files would get another ETag from memory.
 */
function statsDate(ns: bigint): Date {
  const ms = Number(ns / 1_000_000_000n) * 1e3 + Number(ns % 1_000_000_000n) / 1e6;
  return new Date(Math.round(ms));
}

function identityOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

function isSettled(stats: BigIntStats): boolean {
  const changed = Number(
    (stats.mtimeNs > stats.ctimeNs ? stats.mtimeNs : stats.ctimeNs) / 1_000_000n,
  );
  return Date.now() - changed >= SETTLED_MS;
}

function positiveInteger(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(
      option,
      `must be a positive integer, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}
