/**
 * Serving in the second form: each server in a process of its own, autocannon in another, so
 * the server's CPU can be measured apart from the load generator's. For a 17 KB thumbnail, the
 * store's middleware (without and with the hot cache) against serve-static: requests per
 * second (the target), and the server's CPU time per request (`process.cpuUsage`, thread pool
 * included; reported as serve-static's CPU per request over ours, higher is better), which a
 * machine loaded by other work disturbs far less than throughput.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  alternate,
  median,
  report,
  runStandalone,
  type Benchmark,
  type Measurement,
} from './harness.js';
import { load } from './support/autocannon.js';
import { jpegNear, tempFolder } from './support/inputs.js';

const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SERVING_SECONDS ?? 3);
const PATH = 'photo/1/0/1.256x192.jpe';
const SERVER = fileURLToPath(new URL('./support/serving-server.ts', import.meta.url));

interface Stats {
  cpuMicros: number;
  requests: number;
}

interface ServerProcess {
  url: string;
  stats(): Promise<Stats>;
  stop(): Promise<void>;
}

async function start(kind: string, folder: string): Promise<ServerProcess> {
  const child: ChildProcess = fork(SERVER, [kind, folder], { execArgv: ['--import', 'tsx'] });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { port: number }));
    child.once('exit', (code) => reject(new Error(`the ${kind} server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}/images/${PATH}`,
    stats: () =>
      new Promise((resolve) => {
        child.once('message', (message) => resolve(message as Stats));
        child.send('stats');
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

/** One load run: requests per second, and the server's CPU microseconds per request. */
async function measure(server: ServerProcess): Promise<Measurement> {
  const before = await server.stats();
  const run = await load(server.url, CONNECTIONS, SECONDS);
  const after = await server.stats();
  const perRequest = (after.cpuMicros - before.cpuMicros) / (after.requests - before.requests);
  return { value: run.value, extra: { ...run.extra, 'cpu µs/req': perRequest } };
}

export const servingProcesses: Benchmark = {
  name: 'serving-processes',
  description: `servers in processes of their own, ${CONNECTIONS} connections, ${SECONDS} s per run`,
  async run() {
    const folder = await tempFolder('bench-serving-processes');
    await mkdir(join(folder.path, PATH, '..'), { recursive: true });
    await writeFile(join(folder.path, PATH), await jpegNear(17 * 1024));
    const baseline = await start('serve-static', folder.path);
    const variants = [
      { name: 'hotCache: false', server: await start('ours', folder.path), minRatio: 1.0 },
      { name: 'hot cache', server: await start('hot', folder.path), minRatio: 1.5 },
    ];
    // The hot cache keeps only files left alone for two seconds.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    let met = true;
    try {
      for (const variant of variants) {
        const comparison = await alternate({
          name: `serving 17 KB thumbnail, separate processes, ${variant.name}`,
          unit: 'req/s',
          ours: () => measure(variant.server),
          baseline: () => measure(baseline),
        });
        met =
          report(comparison, {
            minRatio: variant.minRatio,
            description: `>= ${variant.minRatio.toFixed(2)} of serve-static`,
          }) && met;
        const cpuRatio = median(
          comparison.ours.map(
            (m, i) =>
              (comparison.baseline[i]?.extra?.['cpu µs/req'] ?? 0) / (m.extra?.['cpu µs/req'] ?? 1),
          ),
        );
        console.log(
          `  CPU per request: serve-static's over ours ${cpuRatio.toFixed(3)}x (report only)`,
        );
      }
    } finally {
      await baseline.stop();
      for (const variant of variants) await variant.server.stop();
      await folder.remove();
    }
    return met;
  },
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(servingProcesses);
