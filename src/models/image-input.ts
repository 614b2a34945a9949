/**
 * What `fromFile` and `fromRawFile` accept, turned into something sharp can probe (a path or
 * bytes) and something a store can take (a stream or bytes). Streams are spooled to a
 * temporary file, never buffered whole.
 */
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoredObjectCopy } from '../stores/copy-source.js';
import { describe } from '../stores/keys.js';
import { movableFileStream } from '../stores/movable-file.js';
import type { FileInput } from '../stores/store.js';

/**
 * A file multer made: disk storage gives `path`, memory storage gives `buffer` (the bytes win
 * when both are set). `Express.Multer.File` fits.
 */
export interface MulterFile {
  path?: string;
  buffer?: Buffer | Uint8Array;
}

/** What `fromFile` accepts. */
export type ImageFileInput = Readable | string | Buffer | Uint8Array | MulterFile;

/**
 * What `fromRawFile` accepts: its type and size are not probed. A {@link StoredObjectCopy} is
 * copied inside the store (`Store#copyFile`).
 */
export type RawFileInput = Readable | string | Buffer | Uint8Array | StoredObjectCopy;

/** An input made probeable; `release` removes any temporary copy. */
export interface ProbeableInput {
  /** A path or the bytes, for sharp. */
  readonly source: string | Buffer;
  release(): Promise<void>;
}

/**
 * Turns a `fromFile` input into a path or bytes; a stream is copied to a temporary file.
 * @throws {TypeError} for anything else.
 */
export async function toProbeable(input: ImageFileInput): Promise<ProbeableInput> {
  if (typeof input === 'string') return { source: input, release: noop };
  if (input instanceof Uint8Array) return { source: asBuffer(input), release: noop };
  if (input instanceof Readable) return spool(input);
  if (typeof input === 'object' && input !== null) {
    const { path, buffer } = input as { path?: unknown; buffer?: unknown };
    if (buffer instanceof Uint8Array) return { source: asBuffer(buffer), release: noop };
    if (typeof path === 'string') return { source: path, release: noop };
  }
  throw new TypeError(
    'file must be a Readable, a path, a Buffer or a multer file ({ path } or { buffer }), ' +
      `not ${describe(input)}`,
  );
}

/**
 * Opens a path, or passes a stream or bytes on, for `Store.putFile`. A path is opened before
 * the stream is made, so a missing file rejects here rather than inside the store.
 */
export async function toFileInput(
  input: RawFileInput | string | Buffer,
  { movable = false } = {},
): Promise<FileInput | StoredObjectCopy> {
  if (input instanceof StoredObjectCopy) return input;
  if (typeof input === 'string') {
    await access(input, constants.R_OK);
    // A stream that knows its path: a file-system store copies it with copyFile, or renames
    // it when it is movable.
    return movable ? movableFileStream(input) : createReadStream(input);
  }
  if (input instanceof Uint8Array || input instanceof Readable) return input;
  throw new TypeError(`file must be a Readable, a path or a Buffer, not ${describe(input)}`);
}

async function spool(stream: Readable): Promise<ProbeableInput> {
  const dir = await mkdtemp(join(tmpdir(), 'imageattach-upload-'));
  const path = join(dir, 'upload');
  const release = () => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(stream, createWriteStream(path));
  } catch (error) {
    await release();
    throw error;
  }
  return { source: path, release };
}

/** Reads a path back as a stream (for callers that already probed it). */
export function streamOf(source: string | Buffer): FileInput {
  return typeof source === 'string' ? createReadStream(source) : source;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

async function noop(): Promise<void> {}
