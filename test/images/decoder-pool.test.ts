/**
 * The decoder pool: decodes in child processes, answers failures with the decoder's message,
 * kills a child at the time limit and starts another, and never keeps a process alive or
 * leaves a child behind.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decoderPids, DecoderPool, stopDecoders } from '../../src/images/decoder-pool.js';
import { animatedWebp } from '../reliability/hostile-files.js';
import { makeTempDir } from '../support/temp-dir.js';

const SCRIPT = fileURLToPath(new URL('./decoder-pool.script.ts', import.meta.url));
let tmp: { path: string; remove: () => Promise<void> };
let png: string;

/** Whether `pid` runs; a zombie (dead, not yet reaped by its new parent) does not. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
};

beforeAll(async () => {
  tmp = await makeTempDir('decoder-pool');
  png = join(tmp.path, 'ok.png');
  await sharp({ create: { width: 64, height: 48, channels: 3, background: '#246' } })
    .png()
    .toFile(png);
});
afterAll(async () => {
  stopDecoders();
  await vi.waitFor(() => expect(decoderPids()).toEqual([]));
  await tmp.remove();
});

describe('DecoderPool', () => {
  it('decodes in a child and reuses it', async () => {
    const pool = new DecoderPool(1);
    expect(await pool.decode(png, 30_000)).toEqual({ outcome: 'decoded' });
    const pids = decoderPids();
    expect(await pool.decode(png, 30_000)).toEqual({ outcome: 'decoded' });
    expect(decoderPids()).toEqual(pids);
    expect(pool.usage.cpu).toBeGreaterThan(0);
    expect(pool.usage.maxRss).toBeGreaterThan(0);
  });

  it("answers a corrupt file with the decoder's message", async () => {
    const bad = join(tmp.path, 'bad.png');
    const bytes = Buffer.from(await sharp(png).png().toBuffer());
    bytes.fill(0x00, 60, 80);
    await writeFile(bad, bytes);
    const result = await new DecoderPool(1).decode(bad, 30_000);
    expect(result.outcome).toBe('failed');
    expect(result.outcome === 'failed' && result.message.length).toBeGreaterThan(0);
  });

  it('kills the child at the time limit, then starts a new one', async () => {
    const slow = join(tmp.path, 'slow.webp');
    await writeFile(slow, await animatedWebp(7000, 7000, 100));
    const pool = new DecoderPool(1);
    const before = new Set(decoderPids());
    await pool.decode(png, 30_000);
    const [child] = decoderPids().filter((pid) => !before.has(pid));
    expect(await pool.decode(slow, 300)).toEqual({ outcome: 'timeout' });
    await vi.waitFor(() => expect(alive(child!)).toBe(false), { timeout: 5000 });
    expect(await pool.decode(png, 30_000)).toEqual({ outcome: 'decoded' });
    expect(decoderPids().filter((pid) => !before.has(pid))).not.toContain(child);
  });

  it('stops a child left idle for idleTimeout, and starts one when needed again', async () => {
    const pool = new DecoderPool(1, 200);
    const before = new Set(decoderPids());
    await pool.decode(png, 30_000);
    const [child] = decoderPids().filter((pid) => !before.has(pid));
    await vi.waitFor(() => expect(alive(child!)).toBe(false), { timeout: 5000 });
    expect(await pool.decode(png, 30_000)).toEqual({ outcome: 'decoded' });
    expect(decoderPids().filter((pid) => !before.has(pid))).toHaveLength(1);
  });

  it('runs at most `size` children; more decodes wait for one', async () => {
    const pool = new DecoderPool(1);
    const before = new Set(decoderPids());
    const outcomes = await Promise.all([1, 2, 3].map(() => pool.decode(png, 30_000)));
    expect(outcomes).toEqual(Array(3).fill({ outcome: 'decoded' }));
    expect(decoderPids().filter((pid) => !before.has(pid))).toHaveLength(1);
  });

  it('keeps no process alive and leaves no child when its process ends', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, png], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const { outcomes, pids } = JSON.parse(out) as { outcomes: unknown[]; pids: number[] };
    expect(outcomes).toEqual([{ outcome: 'decoded' }, { outcome: 'decoded' }]);
    expect(pids).toHaveLength(2);
    await vi.waitFor(() => expect(pids.filter(alive)).toEqual([]), { timeout: 5000 });
  });
});
