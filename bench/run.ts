/**
 * `npm run bench` runs every benchmark in turn and ends with a table of each target and whether
 * it was met; `npm run bench -- upload migration` runs the ones named. Exits 1 when a target is
 * missed or a benchmark fails, 2 on an unknown name.
 */
import { machineSummary, targetResults, type Benchmark, type TargetResult } from './harness.js';
import { locate } from './locate.js';
import { migration } from './migration.js';
import { serving } from './serving.js';
import { thumbnail } from './thumbnail.js';
import { upload } from './upload.js';
import { uploadMemory } from './upload-memory.js';

const BENCHMARKS: readonly Benchmark[] = [
  serving,
  thumbnail,
  locate,
  upload,
  uploadMemory,
  migration,
];

interface Row extends TargetResult {
  benchmark: string;
}

const names = process.argv.slice(2).filter((arg) => arg !== '--');
const unknown = names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}; the benchmarks are:`);
  for (const b of BENCHMARKS) console.error(`  ${b.name.padEnd(14)} ${b.description}`);
  process.exit(2);
}
const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b.name));

console.log(`# ${machineSummary()}`);
console.log(`# ${new Date().toISOString()}`);
const rows: Row[] = [];
const started = Date.now();
for (const benchmark of selected) {
  console.log(`\n# ${benchmark.name}: ${benchmark.description}`);
  const before = targetResults().length;
  const start = Date.now();
  let met: boolean;
  try {
    met = await benchmark.run();
  } catch (error) {
    console.error(`${benchmark.name} failed:`, error);
    rows.push({
      benchmark: benchmark.name,
      name: '(run)',
      figure: 'error',
      target: '',
      met: false,
    });
    continue;
  }
  const checked = targetResults().slice(before);
  rows.push(...checked.map((result) => ({ benchmark: benchmark.name, ...result })));
  // A check the script printed without recording it still fails the run.
  if (!met && checked.every((result) => result.met)) {
    rows.push({ benchmark: benchmark.name, name: '(other)', figure: 'see above', target: '', met });
  }
  console.log(`# ${benchmark.name} took ${seconds(Date.now() - start)}`);
}

console.log(`\n# Summary (${seconds(Date.now() - started)} in all)`);
printTable(rows);
process.exitCode = rows.every((row) => row.met) ? 0 : 1;

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
