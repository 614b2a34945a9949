/**
 * The decoder process the pool forks: it decodes one staged file at a time, as told over IPC,
 * and answers with the result and its own CPU time and peak memory. It holds no state, so the
 * pool may SIGKILL it at any moment; it exits when its parent goes.
 */
import sharp from 'sharp';
import { DECODE_FAIL_ON } from './fail-on.js';

/** A job: the file to decode, or the text of an SVG (never read by path: see the pool). */
export type DecodeJob = { id: number; path: string } | { id: number; svg: string };

/** The answer to a {@link DecodeJob}. */
export interface DecodeAnswer {
  id: number;
  /** The decoder's message when it failed; absent when the image decoded. */
  error?: string;
  /** CPU microseconds this process has used, and its peak RSS in bytes, after the job (job 0:
   * after starting). */
  cpu: number;
  maxRss: number;
}

// One decode at a time, on one libvips thread and without libvips' operation cache: the pool
// has one process per queue slot, so the machine's cores are shared by processes, not threads.
sharp.cache(false);
sharp.concurrency(1);

process.on('message', (job: DecodeJob) => {
  void decode('svg' in job ? Buffer.from(job.svg, 'utf8') : job.path).then((error) => {
    process.send?.({ ...usage(job.id), ...(error === undefined ? {} : { error }) });
  });
});
process.on('disconnect', () => process.exit(0));
// Job 0: started, with what loading took, so that it is not counted against the first decode.
process.send?.(usage(0));

function usage(id: number): DecodeAnswer {
  const { user, system } = process.cpuUsage();
  return { id, cpu: user + system, maxRss: process.resourceUsage().maxRSS * 1024 };
}

/**
 * Decodes every pixel of every frame, in strips (`sequentialRead`), into an 8×8 result, so
 * memory stays small while every byte of compressed data is read.
 */
async function decode(input: string | Buffer): Promise<string | undefined> {
  try {
    await sharp(input, {
      failOn: DECODE_FAIL_ON,
      sequentialRead: true,
      limitInputPixels: false,
      pages: -1,
    })
      .resize({ width: 8, height: 8, fit: 'fill', kernel: 'nearest' })
      .raw()
      .toBuffer();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
