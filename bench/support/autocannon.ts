/** Load from a second process: autocannon's CLI as a child process, its JSON parsed. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Measurement } from '../harness.js';

const run = promisify(execFile);
const AUTOCANNON = fileURLToPath(
  new URL('../../node_modules/autocannon/autocannon.js', import.meta.url),
);

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p99: number; average: number };
  non2xx: number;
  errors: number;
}

export async function load(
  url: string,
  connections: number,
  seconds: number,
): Promise<Measurement> {
  const { stdout } = await run(
    process.execPath,
    [AUTOCANNON, '--json', '-c', String(connections), '-d', String(seconds), url],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as AutocannonJson;
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx responses and ${result.errors} errors`);
  }
  return {
    value: result.requests.total / seconds,
    extra: { 'p99 ms': result.latency.p99 },
  };
}
