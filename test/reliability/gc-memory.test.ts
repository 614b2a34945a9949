/**
 * A memory bound, not a timing: `gc` over 1,000,000 listed keys (a synthetic listing, in id
 * order, which is not key order) and 251,000 SQLite rows, measured in a child process so that
 * nothing else in the test run moves its peak RSS. Everything it finds is counted, not kept.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';

const SCRIPT = fileURLToPath(new URL('./gc-memory.script.ts', import.meta.url));
const MiB = 1024 * 1024;
const LISTED = 1_000_000;
let tmp: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await makeTempDir('gc-memory');
});
afterAll(async () => {
  await tmp.remove();
});

function runScript(mode: 'setup' | 'measure'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SCRIPT, mode, tmp.path, String(LISTED)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the measuring script exited with ${code}`));
      else resolve(out);
    });
  });
}

describe('gc memory', () => {
  it('grows peak RSS by less than 100 MiB over a million listed keys', async () => {
    await runScript('setup');
    const result = JSON.parse(await runScript('measure')) as Record<string, number>;
    const growth = result.growth!;
    console.log(
      `gc over ${result.files} files and ${result.rows} rows: peak RSS growth ` +
        `${(growth / MiB).toFixed(1)} MiB (baseline ${(result.baselineRss! / MiB).toFixed(1)} MiB, ` +
        `peak ${(result.peakRss! / MiB).toFixed(1)} MiB), ${result.cpuSeconds!.toFixed(1)} s CPU`,
    );
    expect(result.files).toBe(LISTED);
    expect(result.rows).toBe(result.expectedRows);
    expect(result.orphans).toBe(result.expectedOrphans);
    expect(result.seenOrphans).toBe(result.expectedOrphans);
    expect(result.missing).toBe(result.expectedMissing);
    expect(result.seenMissing).toBe(result.expectedMissing);
    expect(result.listedOrphans).toBe(0);
    expect(growth).toBeGreaterThan(0);
    expect(growth).toBeLessThan(100 * MiB);
  }, 600_000);
});
