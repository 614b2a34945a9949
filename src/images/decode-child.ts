/**
 * The decoder process the pool forks: it decodes one staged file at a time, as told over IPC,
 * and answers with the result and its own CPU time and peak memory. Asked for thumbnails, the
 * decode that checks the image also renders them, so an upload is decoded once. It holds no
 * state, so the pool may SIGKILL it at any moment; it exits when its parent goes.
 */
import sharp from 'sharp';
import { DECODE_FAIL_ON } from './fail-on.js';
import {
  renderThumbnails,
  type RenderedThumbnail,
  type ThumbnailRenderOptions,
} from './thumbnail.js';

/** Thumbnails a job renders from the image it decodes: exact boxes, in the original's type. */
export interface ThumbnailJob extends ThumbnailRenderOptions {
  mimetype: string;
  boxes: Array<{ width: number; height: number }>;
  /** Frames of the image: past the first, every frame is decoded again to check it. */
  pages: number;
}

/** A job: the file to decode, or the text of an SVG (never read by path: see the pool). */
export type DecodeJob = ({ id: number; path: string } | { id: number; svg: string }) & {
  thumbnails?: ThumbnailJob;
};

/** The answer to a {@link DecodeJob}. */
export interface DecodeAnswer {
  id: number;
  /** The decoder's message when it failed; absent when the image decoded. */
  error?: string;
  /** The thumbnails asked for, in the order of their boxes. */
  thumbnails?: RenderedThumbnail[];
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
  const input = 'svg' in job ? Buffer.from(job.svg, 'utf8') : job.path;
  void run(input, job.thumbnails).then((result) => {
    process.send?.({ ...usage(job.id), ...result } satisfies DecodeAnswer);
  });
});
process.on('disconnect', () => process.exit(0));
// Job 0: started, with what loading took, so that it is not counted against the first decode.
process.send?.(usage(0));

function usage(id: number): DecodeAnswer {
  const { user, system } = process.cpuUsage();
  return { id, cpu: user + system, maxRss: process.resourceUsage().maxRSS * 1024 };
}

async function run(
  input: string | Buffer,
  job: ThumbnailJob | undefined,
): Promise<Pick<DecodeAnswer, 'error' | 'thumbnails'>> {
  try {
    if (job === undefined || job.boxes.length === 0) {
      await decode(input);
      return {};
    }
    const { mimetype, boxes, ...options } = job;
    // One decode of the first frame, the one that checks it too.
    const thumbnails = await renderThumbnails(boxes, mimetype, () => input, options);
    // The render decoded the first frame whole; an animation's other frames are checked too.
    if (job.pages > 1) await decode(input);
    return { thumbnails };
  } catch (error) {
    return { error: error instanceof Error ? messageOf(error) : String(error) };
  }
}

/**
 * Decodes every pixel of every frame, in strips (`sequentialRead`), into an 8×8 result, so
 * memory stays small while every byte of compressed data is read.
 */
async function decode(input: string | Buffer): Promise<void> {
  await sharp(input, {
    failOn: DECODE_FAIL_ON,
    sequentialRead: true,
    limitInputPixels: false,
    pages: -1,
  })
    .resize({ width: 8, height: 8, fit: 'fill', kernel: 'nearest' })
    .raw()
    .toBuffer();
}

/** The decoder's own message: the thumbnail functions wrap it in a `NotAnImageError`. */
function messageOf(error: Error): string {
  return error.cause instanceof Error ? error.cause.message : error.message;
}
