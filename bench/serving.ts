/**
 * Serving: HttpExposedFileSystemStore's middleware against raw serve-static on the same
 * folder, both under Express, loaded by autocannon from a second process with 50 connections.
 * nginx on the same folder is reported where it is installed (no target).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import serveStatic from 'serve-static';
import { HttpExposedFileSystemStore } from '../src/index.js';
import { alternate, format, median, report, runStandalone, type Benchmark } from './harness.js';
import { load } from './support/autocannon.js';
import { jpegNear, tempFolder } from './support/inputs.js';

const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SERVING_SECONDS ?? 3);

async function listen(app: express.Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const serving: Benchmark = {
  name: 'serving',
  description: `store middleware vs raw serve-static, ${CONNECTIONS} connections, ${SECONDS} s per run`,
  async run() {
    const folder = await tempFolder('bench-serving');
    const files = {
      '10 KB thumbnail': { path: 'photo/1/0/1.128x96.jpe', bytes: await jpegNear(10 * 1024) },
      '2 MB original': {
        path: 'photo/1/0/1.1600x1200.jpe',
        bytes: await jpegNear(2 * 1024 * 1024),
      },
    };
    for (const file of Object.values(files)) {
      await mkdir(join(folder.path, file.path, '..'), { recursive: true });
      await writeFile(join(folder.path, file.path), file.bytes);
    }
    const store = new HttpExposedFileSystemStore({ path: folder.path });
    const ours = express().use(store.middleware());
    const baseline = express().use(
      '/images',
      serveStatic(folder.path, { maxAge: 31536000000, immutable: true, index: false }),
    );
    const oursServer = await listen(ours);
    const baselineServer = await listen(baseline);
    let met = true;
    try {
      for (const [label, file] of Object.entries(files)) {
        console.log(`${label} (${file.bytes.length} bytes):`);
        const comparison = await alternate({
          name: `serving ${label}`,
          unit: 'req/s',
          ours: () => load(`${oursServer.url}/images/${file.path}`, CONNECTIONS, SECONDS),
          baseline: () => load(`${baselineServer.url}/images/${file.path}`, CONNECTIONS, SECONDS),
        });
        met = report(comparison, { minRatio: 0.95, description: '>= 0.95 of serve-static' }) && met;
        const p99Ratio = median(
          comparison.ours.map(
            (m, i) => (m.extra?.['p99 ms'] ?? 0) / (comparison.baseline[i]?.extra?.['p99 ms'] ?? 1),
          ),
        );
        const p99Met = p99Ratio <= 1.1;
        console.log(
          `  p99 latency ratio ${p99Ratio.toFixed(3)}x, target <= 1.1x${p99Met ? ' (target met)' : ' (TARGET MISSED)'}`,
        );
        met = p99Met && met;
        await reportNginx(folder.path, file.path);
      }
    } finally {
      await oursServer.close();
      await baselineServer.close();
      await folder.remove();
    }
    return met;
  },
};

async function reportNginx(root: string, path: string): Promise<void> {
  let nginx: string;
  try {
    nginx = execFileSync('which', ['nginx'], { encoding: 'utf8' }).trim();
  } catch {
    console.log('  nginx: not installed, not measured (apt-get install nginx to compare)');
    return;
  }
  const folder = await tempFolder('bench-nginx');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const config = join(folder.path, 'nginx.conf');
  await writeFile(
    config,
    `daemon off; worker_processes 1; pid ${folder.path}/nginx.pid; error_log ${folder.path}/error.log;
events {} http { access_log off; sendfile on; server { listen 127.0.0.1:${port};
location /images/ { alias ${root}/; } } }`,
  );
  const child = spawn(nginx, ['-c', config, '-p', folder.path], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = await load(`http://127.0.0.1:${port}/images/${path}`, CONNECTIONS, SECONDS);
    console.log(
      `  nginx (1 worker, report only): ${format(result.value)} req/s, p99 ${format(result.extra?.['p99 ms'] ?? Number.NaN)} ms`,
    );
  } finally {
    child.kill();
    await folder.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(serving);
