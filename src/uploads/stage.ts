/**
 * Staging: one uploaded part streamed to a temporary file while it is counted, hashed and its
 * first bytes kept for sniffing. Memory stays the same whatever the file's size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { UploadFileTooLargeError, UploadMalformedError } from '../errors.js';
import { SNIFF_BYTES } from '../images/magic.js';

export interface StageOptions {
  /** The folder of the temporary file. */
  dir: string;
  /** Bytes the part may have; one more fails the staging with `UploadFileTooLargeError`. */
  maxBytes: number;
  /** The form field, for errors. */
  field?: string | undefined;
  /**
   * Called once with the first {@link SNIFF_BYTES} bytes (or all of them, when fewer), before
   * the rest is written; throwing refuses the part at once.
   */
  onHead?: ((head: Buffer) => void) | undefined;
  /** Called with the temporary file's path before it is created, so it can be tracked. */
  onPath?: ((path: string) => void) | undefined;
}

/** A part on disk, with what was learnt while writing it. */
export interface StagedFile {
  path: string;
  size: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  /** The first {@link SNIFF_BYTES} bytes. */
  head: Buffer;
  /** The last {@link TAIL_BYTES} bytes, to tell a truncated image from a corrupt one. */
  tail: Buffer;
}

export const TAIL_BYTES = 16;
export const TEMP_PREFIX = 'imageattach-upload-';

/** A fresh, unguessable temporary file name in `dir`. */
export function tempPath(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}`);
}

/**
 * Streams `source` to a new temporary file. On any failure the file is removed, `source` is
 * left flowing (so a multipart parser reaches the next part) and the promise rejects.
 */
export function stageToTempFile(source: Readable, options: StageOptions): Promise<StagedFile> {
  const path = tempPath(options.dir);
  options.onPath?.(path);
  const meter = new Meter(options);
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  return new Promise<StagedFile>((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      source.unpipe(meter);
      if (!source.destroyed) source.resume();
      meter.destroy();
      out.destroy();
      const removeAndReject = () => {
        unlink(path).then(
          () => reject(error as Error),
          () => reject(error as Error),
        );
      };
      if (out.closed) removeAndReject();
      else out.once('close', removeAndReject);
    };
    source.on('error', fail);
    source.once('close', () => {
      if (!source.readableEnded) {
        fail(new UploadMalformedError('The file part ended early.', { field: options.field }));
      }
    });
    meter.on('error', fail);
    out.on('error', fail);
    out.once('close', () => {
      if (failed) return;
      if (!out.writableFinished) {
        fail(new UploadMalformedError('The file could not be written.', { field: options.field }));
        return;
      }
      resolve({
        path,
        size: meter.size,
        sha256: meter.hash.digest('hex'),
        head: meter.head(),
        tail: meter.tail,
      });
    });
    source.pipe(meter).pipe(out);
  });
}

/** Counts, hashes and keeps the head and tail of what passes through. */
class Meter extends Transform {
  size = 0;
  readonly hash = createHash('sha256');
  tail: Buffer = Buffer.alloc(0);
  readonly #chunks: Buffer[] = [];
  #headLength = 0;
  #headDone = false;
  readonly #options: StageOptions;

  constructor(options: StageOptions) {
    super();
    this.#options = options;
  }

  head(): Buffer {
    return Buffer.concat(this.#chunks).subarray(0, SNIFF_BYTES);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.size += chunk.length;
    if (this.size > this.#options.maxBytes) {
      callback(new UploadFileTooLargeError(this.#options.maxBytes, { field: this.#options.field }));
      return;
    }
    this.hash.update(chunk);
    this.tail = Buffer.concat([this.tail, chunk.subarray(-TAIL_BYTES)]).subarray(-TAIL_BYTES);
    if (!this.#headDone) {
      this.#chunks.push(chunk);
      this.#headLength += chunk.length;
      if (this.#headLength >= SNIFF_BYTES) {
        // Hold the chunk back until the head has passed the check: nothing is written first.
        const error = this.#checkHead();
        if (error !== undefined) {
          callback(error);
          return;
        }
        const pending = Buffer.concat(this.#chunks);
        this.#chunks.length = 0;
        this.#chunks.push(pending.subarray(0, SNIFF_BYTES));
        callback(null, pending);
        return;
      }
      callback();
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback) {
    if (!this.#headDone) {
      const error = this.#checkHead();
      if (error !== undefined) {
        callback(error);
        return;
      }
      callback(null, Buffer.concat(this.#chunks));
      return;
    }
    callback();
  }

  #checkHead(): Error | undefined {
    this.#headDone = true;
    try {
      this.#options.onHead?.(this.head());
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }
}
