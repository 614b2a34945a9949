/**
 * Files a store may move in instead of copying: an upload's staged file, which nothing reads
 * after it is stored. A file-system store on the same file system renames it (no byte is
 * copied); any other store reads it as the stream it is.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';

const movable = new WeakSet<ReadStream>();

/** A stream of the file at `path` that a file-system store may take by renaming the file. */
export function movableFileStream(path: string): ReadStream {
  const stream = createReadStream(path);
  movable.add(stream);
  return stream;
}

/**
 * Renames `from` to `to` when `file` is a movable stream of it and both are on one file system.
 * @returns whether it moved; `false` means copy instead.
 */
export async function moveIfMovable(file: unknown, from: string, to: string): Promise<boolean> {
  if (!movable.has(file as ReadStream)) return false;
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EXDEV') return false;
    throw error;
  }
}
