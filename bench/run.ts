/**
 * `npm run bench` runs every benchmark in turn and ends with a table of each target and whether
 * it was met; `npm run bench -- upload migration` runs the ones named. Each script runs in a
 * process of its own, so that none inherits another's heap, caches, models or thread pool.
 * Exits 1 when a target is missed or a benchmark fails, 2 on an unknown name.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineSummary, type TargetResult } from './harness.js';
import { tempFolder } from './support/inputs.js';

/** In the order they run; each is `bench/<name>.ts`, exporting a `Benchmark` of that name. */
const BENCHMARKS = [
  'serving',
  'serving-processes',
  'workflow',
  'thumbnail',
  'locate',
  'upload',
  'upload-memory',
  'migration',
  'sqlite-concurrency',
  'workers',
];

interface Row extends TargetResult {
  benchmark: string;
}

interface ScriptResult {
  met: boolean;
  targets: TargetResult[];
}

const names = process.argv.slice(2).filter((arg) => arg !== '--');
const unknown = names.filter((name) => !BENCHMARKS.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; the benchmarks are:`);
  console.error(`  ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b));

console.log(`# ${new Date().toISOString()}`);
const folder = await tempFolder('bench-run');
const rows: Row[] = [];
const started = Date.now();
try {
  for (const name of selected) {
    console.log('');
    const start = Date.now();
    const resultsFile = join(folder.path, `${name}.json`);
    const code = await runScript(name, resultsFile);
    const result = await readFile(resultsFile, 'utf8').then(
      (text) => JSON.parse(text) as ScriptResult,
      () => undefined,
    );
    if (result === undefined) {
      console.error(`# ${name} failed (exit code ${code}) before it checked its targets`);
      rows.push({ benchmark: name, name: '(run)', figure: 'failed', target: '', met: false });
      continue;
    }
    rows.push(...result.targets.map((target) => ({ benchmark: name, ...target })));
    // A check the script printed without recording it still fails the run.
    if (!result.met && result.targets.every((target) => target.met)) {
      rows.push({ benchmark: name, name: '(other)', figure: 'see above', target: '', met: false });
    }
    console.log(`# ${name} took ${seconds(Date.now() - start)}`);
  }
} finally {
  await folder.remove();
}

console.log(`\n# Summary: ${machineSummary()}; ${seconds(Date.now() - started)} in all`);
printTable(rows);
process.exitCode = rows.every((row) => row.met) ? 0 : 1;

function runScript(name: string, resultsFile: string): Promise<number | null> {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_RESULTS_FILE: resultsFile },
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

function printTable(table: Row[]): void {
  const header = ['benchmark', 'measure', 'figure', 'target', 'result'];
  const cells = table.map((row) => [
    row.benchmark,
    row.name,
    row.figure,
    row.target,
    row.met ? 'met' : 'MISSED',
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((line) => (line[i] as string).length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const values of cells) console.log(line(values));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
