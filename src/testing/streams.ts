/**
 * Byte helpers of the conformance suite: reading streams whole, large generated streams, and
 * digests to compare.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** The ids whose keys the original's layout must place exactly. */
export const SAMPLE_OBJECT_IDS: ReadonlyArray<bigint | number> = [
  0,
  5,
  1234,
  1234567,
  -1234,
  158166530401166902469325588563807197535n,
];

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A stream of `size` pseudo-random bytes produced in chunks, with the digest it will have. */
export function generatedStream(size: number, seed = 'seed'): { stream: Readable; sha256: string } {
  const chunk = createHash('sha512').update(seed).digest();
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i += chunk.length) chunk.copy(block, i);
  const hash = createHash('sha256');
  for (let sent = 0; sent < size; sent += block.length) {
    hash.update(block.subarray(0, Math.min(block.length, size - sent)));
  }
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const part = block.subarray(0, Math.min(block.length, size - sent));
      sent += part.length;
      this.push(Buffer.from(part));
    },
  });
  return { stream, sha256: hash.digest('hex') };
}

export async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

let typeCounter = 0;
/** An object type no other test uses, so tests sharing a store never see each other's files. */
export function uniqueType(): string {
  typeCounter += 1;
  return `conf-${process.pid}-${typeCounter}-${randomBytes(3).toString('hex')}`;
}

/** 64 bytes that depend on `seed` alone. */
export function randomishBytes(seed: number): Buffer {
  return createHash('sha512').update(String(seed)).digest();
}

/** Size and SHA-256: compared instead of the bytes, which Vitest's deep equality walks slowly. */
export function digest(bytes: Uint8Array): string {
  return `${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')}`;
}
