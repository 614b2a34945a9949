/**
 * Upload memory: one 200 MB image posted through `uploadImage` + `attachImage`, streamed from a
 * file, measured in a child process of its own: the peak RSS must grow by less than 64 MiB,
 * whatever the file's size. There is no baseline: the claim is a bound.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { checkTarget, format, runStandalone, type Benchmark } from './harness.js';
import { tempFolder } from './support/inputs.js';

const CHILD = fileURLToPath(new URL('./support/upload-memory-child.ts', import.meta.url));
const MiB = 1024 * 1024;
const SIZE_MIB = Number(process.env.BENCH_UPLOAD_MEMORY_MIB ?? 200);
const LIMIT_MIB = 64;
const RUNS = Math.max(1, Number(process.env.BENCH_UPLOAD_MEMORY_RUNS ?? 3));

interface ChildResult {
  status: number;
  body: string;
  bytes: number;
  storedBytes: number;
  seconds: number;
  baselineRss: number;
  peakRss: number;
  growth: number;
}

export const uploadMemory: Benchmark = {
  name: 'upload-memory',
  description:
    `peak RSS growth of one ${SIZE_MIB} MiB upload through uploadImage + attachImage, ` +
    `in a fresh process, ${RUNS} times`,
  async run() {
    const folder = await tempFolder('bench-upload-memory');
    try {
      // An uncompressed PNG (level 0) is as big as its pixels: the size is exact and cheap to make.
      const file = join(folder.path, 'big.png');
      const width = 8192;
      const height = Math.ceil((SIZE_MIB * MiB) / (width * 3));
      await sharp({ create: { width, height, channels: 3, background: '#4a7' } })
        .png({ compressionLevel: 0, adaptiveFiltering: false })
        .toFile(file);
      // A bound holds on every run, so the worst of a few is the figure.
      let worst = 0;
      for (let run = 1; run <= RUNS; run += 1) {
        const work = join(folder.path, `work-${run}`);
        await mkdir(work);
        const result = await runChild(file, work);
        if (result.status !== 200) {
          throw new Error(`the upload failed: ${result.status} ${result.body}`);
        }
        if (result.storedBytes !== result.bytes) {
          throw new Error(`the store holds ${result.storedBytes} bytes of ${result.bytes}`);
        }
        console.log(
          `  run ${run}: ${format(result.bytes / MiB)} MiB (${width}x${height} PNG) stored in ` +
            `${format(result.seconds)} s; RSS before ${format(result.baselineRss / MiB)} MiB, ` +
            `peak ${format(result.peakRss / MiB)} MiB, growth ${format(result.growth / MiB)} MiB`,
        );
        worst = Math.max(worst, result.growth / MiB);
        await rm(work, { recursive: true, force: true });
      }
      return checkTarget({
        name: `peak RSS growth (worst of ${RUNS})`,
        figure: `${format(worst)} MiB`,
        target: `< ${LIMIT_MIB} MiB`,
        met: worst < LIMIT_MIB,
      });
    } finally {
      await folder.remove();
    }
  },
};

function runChild(file: string, work: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, work], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the measuring process exited with ${code}`));
      else resolve(JSON.parse(out) as ChildResult);
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(uploadMemory);
