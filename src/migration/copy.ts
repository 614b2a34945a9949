/**
 * Copies one image from a store to another, streaming, with the checks a plan asks for.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ImageNotFoundError, VerificationError } from '../errors.js';
import type { ImageLike, Store } from '../stores/store.js';
import { describeKey } from '../stores/keys.js';

export interface CopySettings {
  verify: 'none' | 'size' | 'checksum';
  skipExisting: boolean;
  dryRun: boolean;
}

export interface CopyOutcome {
  status: 'migrated' | 'skipped';
  bytes: number;
}

/**
 * Copies `image`; resolves with what it did, rejects with the cause of a failure (the source
 * file missing, a store error, a {@link VerificationError}, or the signal's reason).
 */
export async function copyImage(
  image: ImageLike,
  source: Store,
  destination: Store,
  settings: CopySettings,
  signal: AbortSignal,
): Promise<CopyOutcome> {
  signal.throwIfAborted();
  if (settings.skipExisting && (await alreadyCopied(image, source, destination, settings))) {
    return { status: 'skipped', bytes: 0 };
  }
  signal.throwIfAborted();
  if (settings.dryRun) {
    const size = await sizeOf(source, image);
    if (size === undefined) throw new ImageNotFoundError(describeKey(image));
    return { status: 'migrated', bytes: size };
  }
  const input = await source.open(image);
  const meter = new Meter(settings.verify === 'checksum');
  // The meter too: a small file may be read whole already and sit in the meter's buffer.
  const onAbort = () => {
    input.destroy(signal.reason as Error);
    meter.destroy(signal.reason as Error);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  input.once('error', (error) => meter.destroy(error));
  input.pipe(meter);
  try {
    await destination.store(image, meter);
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.destroy();
  }
  if (settings.verify !== 'none') {
    try {
      await verifyCopy(image, destination, meter, settings.verify === 'checksum');
    } catch (error) {
      // A bad copy must not look like a finished one to the next `skipExisting` run.
      await destination.delete(image).catch(() => undefined);
      throw error;
    }
  }
  return { status: 'migrated', bytes: meter.bytes };
}

/**
 * The size of a stored image, or `undefined` when it is missing: `statFile` when the store
 * has it, else the bytes counted while reading the file.
 */
export async function sizeOf(store: Store, image: ImageLike): Promise<number | undefined> {
  if (store.statFile !== undefined) {
    const stat = await store.statFile(
      image.objectType,
      image.objectId,
      image.width,
      image.height,
      image.mimetype,
    );
    return stat?.size;
  }
  const stream = await openOrUndefined(store, image);
  if (stream === undefined) return undefined;
  let size = 0;
  for await (const chunk of stream) size += (chunk as Uint8Array).length;
  return size;
}

async function alreadyCopied(
  image: ImageLike,
  source: Store,
  destination: Store,
  settings: CopySettings,
): Promise<boolean> {
  const copied = await sizeOf(destination, image);
  if (copied === undefined) return false;
  const original = await sizeOf(source, image);
  if (original === undefined) throw new ImageNotFoundError(describeKey(image));
  if (copied !== original) return false;
  if (settings.verify !== 'checksum') return true;
  const [a, b] = await Promise.all([source.open(image), destination.open(image)]);
  return (await sha256Of(a)) === (await sha256Of(b));
}

async function verifyCopy(
  image: ImageLike,
  destination: Store,
  meter: Meter,
  checksum: boolean,
): Promise<void> {
  const size = await sizeOf(destination, image);
  if (size !== meter.bytes) {
    throw new VerificationError('size', String(meter.bytes), String(size ?? 'missing'));
  }
  if (!checksum) return;
  const expected = meter.digest();
  const actual = await sha256Of(await destination.open(image));
  if (actual !== expected) throw new VerificationError('sha256', expected, actual);
}

async function openOrUndefined(store: Store, image: ImageLike): Promise<Readable | undefined> {
  try {
    return await store.open(image);
  } catch (error) {
    if (error instanceof ImageNotFoundError) return undefined;
    throw error;
  }
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

/** Passes bytes through, counting them and (optionally) hashing them. */
class Meter extends Transform {
  bytes = 0;
  readonly #hash: Hash | undefined;

  constructor(hash: boolean) {
    super();
    this.#hash = hash ? createHash('sha256') : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.bytes += chunk.length;
    this.#hash?.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.#hash?.digest('hex') ?? '';
  }
}
