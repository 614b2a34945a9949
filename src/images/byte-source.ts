/**
 * Random access to a file's bytes through a small window, so header walks that take many
 * tiny steps (GIF sub-blocks, PNG chunks) read the disk in 64 KiB pieces and never hold the
 * whole file.
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes at positions, from a file or a buffer. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `position`; fewer at the end. */
  read(position: number, length: number): Promise<Buffer>;
}

const WINDOW = 64 * 1024;

/** A buffer as a {@link ByteSource}. */
export function bufferSource(bytes: Buffer): ByteSource {
  return {
    size: bytes.length,
    read: (position, length) => Promise.resolve(bytes.subarray(position, position + length)),
  };
}

/** An open file of `size` bytes as a {@link ByteSource}, read through one reused window. */
export function fileSource(handle: FileHandle, size: number): ByteSource {
  let start = 0;
  let window = Buffer.alloc(0);
  return {
    size,
    async read(position, length) {
      const end = Math.min(position + length, size);
      if (position >= start && end <= start + window.length) {
        return window.subarray(position - start, end - start);
      }
      if (length > WINDOW) {
        const bytes = Buffer.alloc(Math.max(0, end - position));
        const { bytesRead } = await handle.read(bytes, 0, bytes.length, position);
        return bytes.subarray(0, bytesRead);
      }
      const buffer = Buffer.alloc(WINDOW);
      const { bytesRead } = await handle.read(buffer, 0, WINDOW, position);
      start = position;
      window = buffer.subarray(0, bytesRead);
      return window.subarray(0, Math.max(0, end - position));
    },
  };
}
