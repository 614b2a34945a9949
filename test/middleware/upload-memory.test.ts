/**
 * A memory bound, not a timing: a 100 MiB upload through `uploadImage`, measured in a child
 * process so that nothing else in the test run moves its peak RSS.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';
import { listDir } from './upload-fixtures.js';

const SCRIPT = fileURLToPath(new URL('./upload-memory.script.ts', import.meta.url));
const MiB = 1024 * 1024;
let tmp: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await makeTempDir('upload-memory');
});
afterAll(async () => {
  await tmp.remove();
});

function runScript(file: string, tmpDir: string): Promise<Record<string, number | string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, file, tmpDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the measuring script exited with ${code}`));
      else resolve(JSON.parse(out) as Record<string, number | string>);
    });
  });
}

describe('uploadImage memory', () => {
  it('grows peak RSS by less than 64 MiB for a 100 MiB upload', async () => {
    // About 100 MiB of incompressible pixels, stored (level 0) so the file is as big as they are.
    const file = join(tmp.path, 'big.png');
    const [width, height] = [6000, 5800];
    await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toFile(file);
    const staging = join(tmp.path, 'staging');
    await mkdir(staging);

    const result = await runScript(file, staging);
    const growth = Number(result.growth);
    console.log(
      `upload of ${(Number(result.bytes) / MiB).toFixed(1)} MiB: peak RSS growth ` +
        `${(growth / MiB).toFixed(1)} MiB (baseline ${(Number(result.baselineRss) / MiB).toFixed(1)} MiB, ` +
        `peak ${(Number(result.peakRss) / MiB).toFixed(1)} MiB)`,
    );
    expect(result.status).toBe(200);
    expect(JSON.parse(String(result.body))).toEqual({ size: Number(result.bytes), width: 6000 });
    expect(Number(result.bytes)).toBeGreaterThanOrEqual(99 * MiB);
    expect(growth).toBeLessThan(64 * MiB);
    expect(await listDir(staging)).toEqual(['small.png']);
  });
});
