/**
 * Sorts a stream too big for memory: runs of `runSize` items are sorted in memory and written
 * to temporary files as JSON lines, then read back together through a k-way merge. Memory
 * holds one run while sorting and one line per run while merging, whatever the stream's
 * length; disk holds the whole stream once.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface ExternalSortOptions<T> {
  /** Orders two items (as `Array#sort`'s comparator). */
  compare: (a: T, b: T) => number;
  /** The item as JSON-compatible data, and back. */
  encode: (item: T) => unknown;
  decode: (data: unknown) => T;
  /** Items sorted in memory at once. */
  runSize: number;
  /** Where the runs are written. */
  tmpDir?: string;
}

/**
 * The items of `source` in `compare` order. The temporary files are removed when the result
 * is read to its end, or when its reader stops early (`break`, `return`, a throw).
 */
export async function* externalSort<T>(
  source: AsyncIterable<T> | Iterable<T>,
  options: ExternalSortOptions<T>,
): AsyncGenerator<T> {
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'imageattach-sort-'));
  try {
    const runs: string[] = [];
    let run: T[] = [];
    for await (const item of source) {
      run.push(item);
      if (run.length >= options.runSize) {
        runs.push(await writeRun(dir, runs.length, run, options));
        run = [];
      }
    }
    run.sort(options.compare);
    // A stream that fits in one run never touches the disk.
    if (runs.length === 0) {
      yield* run;
      return;
    }
    if (run.length > 0) runs.push(await writeRun(dir, runs.length, run, options));
    run = [];
    yield* mergeRuns(runs, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeRun<T>(
  dir: string,
  index: number,
  run: T[],
  options: ExternalSortOptions<T>,
): Promise<string> {
  run.sort(options.compare);
  const path = join(dir, `run-${index}.jsonl`);
  const out = createWriteStream(path);
  for (const item of run) {
    if (!out.write(`${JSON.stringify(options.encode(item))}\n`)) await drained(out);
  }
  out.end();
  await once(out, 'finish');
  return path;
}

/** Rejects if the stream fails first (`once` listens for 'error' while it waits, then stops). */
function drained(out: WriteStream): Promise<unknown> {
  return once(out, 'drain');
}

/** The runs' items in order: a binary heap holds the head of each run. */
async function* mergeRuns<T>(paths: string[], options: ExternalSortOptions<T>): AsyncGenerator<T> {
  const readers = paths.map((path) =>
    createInterface({
      input: createReadStream(path, { highWaterMark: 16 * 1024 }),
      crlfDelay: Infinity,
    })[Symbol.asyncIterator](),
  );
  type Head = { item: T; reader: number };
  const heap: Head[] = [];
  const less = (a: Head, b: Head) => options.compare(a.item, b.item) < 0;
  const push = (head: Head) => {
    heap.push(head);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const pop = (): Head => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && less(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && less(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  };
  const next = async (reader: number) => {
    const line = await readers[reader]!.next();
    if (line.done !== true) {
      push({ item: options.decode(JSON.parse(line.value) as unknown), reader });
    }
  };
  try {
    for (let i = 0; i < readers.length; i += 1) await next(i);
    while (heap.length > 0) {
      const head = pop();
      yield head.item;
      await next(head.reader);
    }
  } finally {
    for (const reader of readers) await reader.return?.();
  }
}
