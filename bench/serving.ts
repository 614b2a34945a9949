/**
 * Serving: HttpExposedFileSystemStore's middleware against raw serve-static on the same
 * folder, both under Express, loaded by autocannon from a second process with 50 connections.
 * Small files with and without the hot cache. Where nginx is installed, the offload mode behind
 * it is compared with nginx serving the folder directly (ratio reported, no target).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import serveStatic from 'serve-static';
import { HttpExposedFileSystemStore } from '../src/index.js';
import { alternate, median, report, runStandalone, type Benchmark } from './harness.js';
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
      '17 KB thumbnail': { path: 'photo/1/0/1.256x192.jpe', bytes: await jpegNear(17 * 1024) },
      '2 MB original': {
        path: 'photo/1/0/1.1600x1200.jpe',
        bytes: await jpegNear(2 * 1024 * 1024),
      },
    };
    for (const file of Object.values(files)) {
      await mkdir(join(folder.path, file.path, '..'), { recursive: true });
      await writeFile(join(folder.path, file.path), file.bytes);
    }
    const cold = new HttpExposedFileSystemStore({ path: folder.path, hotCache: false });
    const hot = new HttpExposedFileSystemStore({ path: folder.path });
    const baseline = express().use(
      '/images',
      serveStatic(folder.path, { maxAge: 31536000000, immutable: true, index: false }),
    );
    const coldServer = await listen(express().use(cold.middleware()));
    const hotServer = await listen(express().use(hot.middleware()));
    const baselineServer = await listen(baseline);
    // The hot cache keeps only files left alone for two seconds.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    let met = true;
    try {
      for (const [label, file] of Object.entries(files)) {
        console.log(`${label} (${file.bytes.length} bytes):`);
        const small = file.bytes.length <= 64 * 1024;
        const variants = small
          ? [
              { name: 'hotCache: false', server: coldServer, minRatio: 1.0 },
              { name: 'hot cache', server: hotServer, minRatio: 1.5 },
            ]
          : [{ name: 'default options', server: hotServer, minRatio: 0.95 }];
        for (const variant of variants) {
          const comparison = await alternate({
            name: `serving ${label}, ${variant.name}`,
            unit: 'req/s',
            ours: () => load(`${variant.server.url}/images/${file.path}`, CONNECTIONS, SECONDS),
            baseline: () => load(`${baselineServer.url}/images/${file.path}`, CONNECTIONS, SECONDS),
          });
          met =
            report(comparison, {
              minRatio: variant.minRatio,
              description: `>= ${variant.minRatio.toFixed(2)} of serve-static`,
            }) && met;
          const p99Ratio = median(
            comparison.ours.map(
              (m, i) =>
                (m.extra?.['p99 ms'] ?? 0) / (comparison.baseline[i]?.extra?.['p99 ms'] ?? 1),
            ),
          );
          console.log(`  p99 latency ratio ${p99Ratio.toFixed(3)}x (report only)`);
        }
        await compareNginx(folder.path, file.path);
      }
    } finally {
      await coldServer.close();
      await hotServer.close();
      await baselineServer.close();
      await folder.remove();
    }
    return met;
  },
};

/**
 * Offload mode behind nginx (nginx asks our middleware, which answers X-Accel-Redirect, then
 * sends the file from an internal location) against nginx serving the folder directly. Ratio
 * reported, no target: the issue asks for the measurement.
 */
async function compareNginx(root: string, path: string): Promise<void> {
  let nginx: string;
  try {
    nginx = execFileSync('which', ['nginx'], { encoding: 'utf8' }).trim();
  } catch {
    console.log('  nginx: not installed, not measured (apt-get install nginx to compare)');
    return;
  }
  // nginx's workers run as another user: the temporary folder (0700) must be readable.
  await chmod(root, 0o755);
  const store = new HttpExposedFileSystemStore({ path: root, offload: 'x-accel-redirect' });
  const app = await listen(express().use(store.middleware()));
  const folder = await tempFolder('bench-nginx');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const config = join(folder.path, 'nginx.conf');
  await writeFile(
    config,
    `daemon off; worker_processes 1; pid ${folder.path}/nginx.pid; error_log ${folder.path}/error.log;
events { worker_connections 1024; } http { access_log off; sendfile on;
types { image/jpeg jpe jpg jpeg; image/png png; }
upstream app { server ${app.url.replace('http://', '')}; keepalive 64; }
server { listen 127.0.0.1:${port};
location /direct/ { alias ${root}/; }
location /images/ { proxy_pass ${app.url}; proxy_http_version 1.1; proxy_set_header Connection ""; }
location /_internal/images/ { internal; alias ${root}/; }
} }`,
  );
  const child = spawn(nginx, ['-c', config, '-p', folder.path], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const comparison = await alternate({
      name: `offload x-accel-redirect behind nginx vs nginx alone (1 worker)`,
      unit: 'req/s',
      ours: () => load(`http://127.0.0.1:${port}/images/${path}`, CONNECTIONS, SECONDS),
      baseline: () => load(`http://127.0.0.1:${port}/direct/${path}`, CONNECTIONS, SECONDS),
    });
    report(comparison);
  } catch (error) {
    // Report only: a failure here is printed with nginx's own log, and the run goes on.
    console.log(`  nginx comparison failed: ${String(error)}`);
    const log = await readFile(join(folder.path, 'error.log'), 'utf8').catch(() => '');
    console.log(log.split('\n').slice(-5).join('\n'));
  } finally {
    child.kill();
    await app.close();
    await folder.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(serving);
