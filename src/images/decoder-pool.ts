/**
 * Decodes that can be stopped: a small warm pool of child processes, one per processing-queue
 * slot, started lazily. A decode past its time limit gets the child SIGKILLed (terminating a
 * worker thread does not stop libvips' native threads: measured, a 69 s decode ran to its end)
 * and the next decode starts a new one. Children are unref'd, so they never keep the parent
 * alive; they exit when the parent does.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DecodeAnswer, DecodeJob, ThumbnailJob } from './decode-child.js';
import type { ProcessingQueue } from './queue.js';
import type { RenderedThumbnail } from './thumbnail.js';

export type { ThumbnailJob } from './decode-child.js';

/**
 * What became of a decode: done (with the thumbnails asked for), refused by the decoder (its
 * message), or stopped.
 */
export type DecodeOutcome =
  | { outcome: 'decoded'; thumbnails?: RenderedThumbnail[] }
  | { outcome: 'failed'; message: string }
  | { outcome: 'timeout' };

/** A decode's outcome with the child's CPU microseconds for it, when the child answered. */
type DecodeResult = DecodeOutcome & { cpu?: number; maxRss?: number };

/** Milliseconds a new child may take to load sharp before it counts as failed to start. */
const START_TIMEOUT = 30_000;
/**
 * Milliseconds an idle child is kept by default: warm through a burst, gone when uploads stop
 * (and when a queue is dropped, its children do not outlive it by long).
 */
const IDLE_TIMEOUT = 30_000;

// From source (tests, tsx) the child is TypeScript too and needs tsx's loader.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const CHILD_PATH = fileURLToPath(
  new URL(FROM_SOURCE ? './decode-child.ts' : './decode-child.js', import.meta.url),
);
const CHILD_EXEC_ARGV = FROM_SOURCE ? ['--import', 'tsx'] : [];

const live = new Set<ChildProcess>();
let exitHookAdded = false;

/** One child process and the job it runs. */
class Decoder {
  #jobs = 0;
  /** Jobs sent so far: a rest timer stops the child only if no job came since it was set. */
  get jobs(): number {
    return this.#jobs;
  }
  private constructor(
    readonly child: ChildProcess,
    /** The child's CPU microseconds so far. */
    private cpu: number,
  ) {}

  /** Forks a child and resolves once it has loaded sharp. */
  static start(): Promise<Decoder> {
    const child = fork(CHILD_PATH, [], {
      execArgv: CHILD_EXEC_ARGV,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // Structured clone: rendered thumbnails come back as bytes, not as JSON arrays.
      serialization: 'advanced',
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    if (!exitHookAdded) {
      exitHookAdded = true;
      process.once('exit', stopDecoders);
    }
    child.unref();
    child.channel?.unref();
    return new Promise<Decoder>((resolve, reject) => {
      // Ref'd on purpose: a caller awaiting the start keeps the process alive until it is done.
      const timer = setTimeout(
        () => fail(new Error('The decoder process did not start.')),
        START_TIMEOUT,
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.off('message', onReady);
        child.kill('SIGKILL');
        reject(error);
      };
      const onExit = (code: number | null, signal: string | null) =>
        fail(new Error(`The decoder process exited on start (${signal ?? code}).`));
      const onReady = (message: DecodeAnswer) => {
        if (message.id !== 0) return;
        clearTimeout(timer);
        child.off('message', onReady);
        child.off('exit', onExit);
        child.off('error', fail);
        resolve(new Decoder(child, message.cpu));
      };
      child.on('message', onReady);
      child.once('exit', onExit);
      child.once('error', fail);
    });
  }

  get alive(): boolean {
    const { child } = this;
    return !child.killed && child.exitCode === null && child.signalCode === null;
  }

  /** Decodes `path`; past `timeout` ms the child is killed and the outcome is `timeout`. */
  run(input: string | Buffer, timeout: number, thumbnails?: ThumbnailJob): Promise<DecodeResult> {
    const { child } = this;
    const id = (this.#jobs += 1);
    return new Promise((resolve) => {
      const done = (outcome: DecodeResult) => {
        clearTimeout(timer);
        child.off('message', onAnswer);
        child.off('exit', onExit);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done({ outcome: 'timeout' });
      }, timeout);
      const onAnswer = (answer: DecodeAnswer) => {
        if (answer.id !== id) return;
        const usage = { cpu: answer.cpu - this.cpu, maxRss: answer.maxRss };
        this.cpu = answer.cpu;
        if (answer.error !== undefined) {
          done({ outcome: 'failed', message: answer.error, ...usage });
        } else if (answer.thumbnails === undefined) {
          done({ outcome: 'decoded', ...usage });
        } else {
          done({ outcome: 'decoded', thumbnails: answer.thumbnails.map(asBuffer), ...usage });
        }
      };
      // A decoder that crashes on a file has refused it.
      const onExit = (code: number | null, signal: string | null) =>
        done({ outcome: 'failed', message: `The decoder exited (${signal ?? code}).` });
      child.on('message', onAnswer);
      child.once('exit', onExit);
      // An SVG (checked, UTF-8, at most maxSvgSize) travels as text: read by path, librsvg would
      // resolve its relative references against the temporary folder.
      const job: DecodeJob =
        typeof input === 'string' ? { id, path: input } : { id, svg: input.toString('utf8') };
      child.send(thumbnails === undefined ? job : { ...job, thumbnails });
    });
  }
}

/** Child processes for one {@link ProcessingQueue}: at most one per slot. */
export class DecoderPool {
  readonly size: number;
  readonly idleTimeout: number;
  /** CPU microseconds and peak RSS bytes reported by children for finished decodes. */
  readonly usage = { cpu: 0, maxRss: 0 };
  /** Decodes started so far: each is one decode of one image, thumbnails included. */
  decodes = 0;
  readonly #idle: Decoder[] = [];
  readonly #waiting: Array<(decoder: Promise<Decoder>) => void> = [];
  #count = 0;

  /** `size` children at most, each stopped after `idleTimeout` ms without a decode. */
  constructor(size: number, idleTimeout = IDLE_TIMEOUT) {
    this.size = size;
    this.idleTimeout = idleTimeout;
  }

  /**
   * Decodes every frame of the file at `input` (a path, or an SVG's bytes) in a child, stopped
   * after `timeout` ms; with `thumbnails`, the same decode renders them.
   */
  async decode(
    input: string | Buffer,
    timeout: number,
    thumbnails?: ThumbnailJob,
  ): Promise<DecodeOutcome> {
    const decoder = await this.#acquire();
    this.decodes += 1;
    try {
      const { cpu, maxRss, ...outcome } = await decoder.run(input, timeout, thumbnails);
      this.usage.cpu += cpu ?? 0;
      this.usage.maxRss = Math.max(this.usage.maxRss, maxRss ?? 0);
      return outcome;
    } finally {
      this.#release(decoder);
    }
  }

  #acquire(): Promise<Decoder> {
    for (let idle = this.#idle.pop(); idle !== undefined; idle = this.#idle.pop()) {
      if (idle.alive) return Promise.resolve(idle);
      this.#count -= 1; // stopped by stopDecoders()
    }
    if (this.#count < this.size) return this.#start();
    return new Promise<Promise<Decoder>>((resolve) => this.#waiting.push(resolve)).then(
      (decoder) => decoder,
    );
  }

  #start(): Promise<Decoder> {
    this.#count += 1;
    return Decoder.start().catch((error: unknown) => {
      this.#count -= 1;
      throw error;
    });
  }

  /** Keeps `decoder` for the next decode, and stops it if none comes in `idleTimeout` ms. */
  #rest(decoder: Decoder): void {
    this.#idle.push(decoder);
    const jobs = decoder.jobs;
    setTimeout(() => {
      const at = this.#idle.indexOf(decoder);
      if (at < 0 || decoder.jobs !== jobs) return;
      this.#idle.splice(at, 1);
      this.#count -= 1;
      decoder.child.kill('SIGKILL');
    }, this.idleTimeout).unref();
  }

  #release(decoder: Decoder): void {
    const next = this.#waiting.shift();
    if (decoder.alive) {
      if (next === undefined) this.#rest(decoder);
      else next(Promise.resolve(decoder));
      return;
    }
    this.#count -= 1;
    next?.(this.#start());
  }
}

/** A thumbnail as it crossed the process boundary (a Uint8Array), with a Buffer again. */
function asBuffer(thumbnail: RenderedThumbnail): RenderedThumbnail {
  const { data } = thumbnail;
  return { ...thumbnail, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}

const pools = new WeakMap<ProcessingQueue, DecoderPool>();

/** The pool of `queue`'s decodes, sized to its concurrency. */
export function decoderPoolFor(queue: ProcessingQueue): DecoderPool {
  let pool = pools.get(queue);
  if (pool === undefined) {
    pool = new DecoderPool(queue.concurrency);
    pools.set(queue, pool);
  }
  return pool;
}

/** Kills every decoder child of this process (pools start new ones when next needed). */
export function stopDecoders(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** The process ids of the decoder children alive now. */
export function decoderPids(): number[] {
  return [...live].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
}
