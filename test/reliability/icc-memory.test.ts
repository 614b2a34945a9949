/**
 * The processing queue's memory promise against ICC bombs: eight 16 MB JPEGs uploaded at once,
 * each a garbage ICC profile (refused from the headers) or a photo with one just under the
 * limit (decoded), grow the server's peak RSS by less than 384 MiB. Measured in a fresh child
 * process, so nothing else in the test run moves the peak.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDir } from '../middleware/upload-fixtures.js';
import { makeTempDir } from '../support/temp-dir.js';
import { jpegWithIcc } from './hostile-files.js';

const SCRIPT = fileURLToPath(new URL('./icc-memory.script.ts', import.meta.url));
const MiB = 1024 * 1024;
let tmp: { path: string; remove: () => Promise<void> };

beforeAll(async () => {
  tmp = await makeTempDir('icc-memory');
});
afterAll(async () => {
  await tmp.remove();
});

interface Measured {
  statuses: number[];
  codes: Array<string | null>;
  baselineRss: number;
  peakRss: number;
  growth: number;
  childrenPeakRss: number[];
}

function runScript(files: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, tmp.path, ...files], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the measuring script exited with ${code}`));
      else resolve(JSON.parse(out) as Measured);
    });
  });
}

const report = (name: string, result: Measured) =>
  console.log(
    `${name}: peak RSS growth ${(result.growth / MiB).toFixed(1)} MiB (baseline ` +
      `${(result.baselineRss / MiB).toFixed(1)} MiB); decoder children's peak RSS ` +
      `${result.childrenPeakRss.map((rss) => (rss / MiB).toFixed(1)).join(', ')} MiB`,
  );

describe('eight ICC bombs at once', () => {
  it('refuses 16 MB garbage profiles from the headers, within 384 MiB', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#456' } })
      .jpeg()
      .toBuffer();
    const files = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const path = join(tmp.path, `bomb-${i}.jpg`);
        await writeFile(path, jpegWithIcc(jpeg, 16 * MiB - 64 * 1024));
        return path;
      }),
    );
    const result = await runScript(files);
    report('eight 16 MB ICC bombs', result);
    expect(result.statuses).toEqual(Array(8).fill(422));
    expect(result.codes).toEqual(Array(8).fill('E_IMAGE_METADATA_TOO_LARGE'));
    expect(result.growth).toBeLessThan(384 * MiB);
    expect((await listDir(tmp.path)).filter((name) => name.startsWith('imageattach'))).toEqual([]);
  });

  it('decodes 16 MB photos with profiles just under the limit, within 384 MiB', async () => {
    const photo = await sharp({
      create: {
        width: 4000,
        height: 3000,
        channels: 3,
        background: '#888',
        noise: { type: 'gaussian', mean: 128, sigma: 60 },
      },
    })
      .jpeg({ quality: 98 })
      .toBuffer();
    const files = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const path = join(tmp.path, `photo-${i}.jpg`);
        await writeFile(path, jpegWithIcc(photo, MiB - 1024));
        return path;
      }),
    );
    const result = await runScript(files);
    report('eight 16 MB photos, ICC just under 1 MiB', result);
    expect(result.statuses).toEqual(Array(8).fill(200));
    expect(result.growth).toBeLessThan(384 * MiB);
    // Each decoder child decodes one file at a time, in strips.
    for (const rss of result.childrenPeakRss) expect(rss).toBeLessThan(256 * MiB);
  });
});
