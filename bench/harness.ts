/**
 * The rules every benchmark follows: ours and the baseline run alternately in the same process
 * run (A B A B …, after a warm-up), each script prints both medians and the median of the
 * per-round ratios, and a missed target makes the script exit non-zero.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import sharp from 'sharp';

export interface Measurement {
  /** The figure of merit for one run, e.g. images per second. */
  value: number;
  /** Further figures to print, e.g. p99 latency. */
  extra?: Record<string, number>;
}

export interface Comparison {
  name: string;
  unit: string;
  ours: Measurement[];
  baseline: Measurement[];
  /** ours / baseline per round, so drift over the run cancels out. */
  ratios: number[];
}

export interface AlternateOptions {
  name: string;
  unit: string;
  rounds?: number;
  warmups?: number;
  ours: () => Promise<Measurement>;
  baseline: () => Promise<Measurement>;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Rounds from BENCH_ROUNDS (at least 5, the rule), for longer runs on quiet machines. */
export function defaultRounds(): number {
  return Math.max(5, Number(process.env.BENCH_ROUNDS ?? 5));
}

export async function alternate(options: AlternateOptions): Promise<Comparison> {
  const rounds = options.rounds ?? defaultRounds();
  for (let i = 0; i < (options.warmups ?? 1); i += 1) {
    await options.ours();
    await options.baseline();
  }
  const comparison: Comparison = {
    name: options.name,
    unit: options.unit,
    ours: [],
    baseline: [],
    ratios: [],
  };
  for (let round = 0; round < rounds; round += 1) {
    // Swap the order every round so neither side always runs on a warmer machine.
    const first = round % 2 === 0 ? options.ours : options.baseline;
    const second = round % 2 === 0 ? options.baseline : options.ours;
    const a = await first();
    const b = await second();
    const ours = round % 2 === 0 ? a : b;
    const baseline = round % 2 === 0 ? b : a;
    comparison.ours.push(ours);
    comparison.baseline.push(baseline);
    comparison.ratios.push(ours.value / baseline.value);
    console.log(
      `  round ${round + 1}: ours ${format(ours.value)} ${options.unit}, ` +
        `baseline ${format(baseline.value)} ${options.unit}, ratio ${ratioText(ours.value / baseline.value)}`,
    );
  }
  return comparison;
}

export interface Target {
  /** The ratio that must be reached (ours / baseline, higher is better). */
  minRatio: number;
  description: string;
}

/** Prints the medians and the ratio last; returns whether the target was met. */
export function report(comparison: Comparison, target?: Target): boolean {
  const oursMedian = median(comparison.ours.map((m) => m.value));
  const baselineMedian = median(comparison.baseline.map((m) => m.value));
  const ratio = median(comparison.ratios);
  console.log(`${comparison.name}:`);
  console.log(
    `  ours     median ${format(oursMedian)} ${comparison.unit}${extras(comparison.ours)}`,
  );
  console.log(
    `  baseline median ${format(baselineMedian)} ${comparison.unit}${extras(comparison.baseline)}`,
  );
  const met = target === undefined || ratio >= target.minRatio;
  const verdict = target === undefined ? '' : met ? ' (target met)' : ' (TARGET MISSED)';
  const goal = target === undefined ? '' : `, target ${target.description}`;
  console.log(`  ratio ${ratioText(ratio)}${goal}${verdict}`);
  if (target !== undefined) {
    results.push({
      name: comparison.name,
      figure: ratioText(ratio),
      target: target.description,
      met,
    });
  }
  return met;
}

/** One claim checked, for the table bench/run.ts prints at the end. */
export interface TargetResult {
  name: string;
  /** What was measured, e.g. `0.93x` or `47 MiB`. */
  figure: string;
  target: string;
  met: boolean;
}

const results: TargetResult[] = [];

/** Every target checked so far in this process, in order. */
export function targetResults(): readonly TargetResult[] {
  return results;
}

/**
 * Prints and records a target that is not a ratio of medians (a bound, a p99 ratio, a rate),
 * in the same words as {@link report}; returns whether it was met.
 */
export function checkTarget(result: TargetResult): boolean {
  const verdict = result.met ? ' (target met)' : ' (TARGET MISSED)';
  console.log(`  ${result.name} ${result.figure}, target ${result.target}${verdict}`);
  results.push(result);
  return result.met;
}

function extras(measurements: Measurement[]): string {
  const keys = Object.keys(measurements[0]?.extra ?? {});
  return keys
    .map(
      (key) => `, ${key} ${format(median(measurements.map((m) => m.extra?.[key] ?? Number.NaN)))}`,
    )
    .join('');
}

export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function ratioText(ratio: number): string {
  return `${ratio.toFixed(3)}x`;
}

/** The machine, for the record in docs/benchmarks.md. */
export function machineSummary(): string {
  const cpus = os.cpus();
  return [
    `${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}`,
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `Node ${process.version}`,
    `sharp ${sharp.versions.sharp ?? '?'} / libvips ${sharp.versions.vips}`,
    `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
  ].join(', ');
}

/** What a benchmark script exports for bench/run.ts. */
export interface Benchmark {
  name: string;
  description: string;
  /** Resolves to true when every target was met. */
  run(): Promise<boolean>;
}

/** Runs a benchmark when its file is executed directly, exiting non-zero on a missed target. */
export async function runStandalone(benchmark: Benchmark): Promise<void> {
  console.log(`# ${benchmark.name}: ${benchmark.description}`);
  console.log(`# ${machineSummary()}`);
  const met = await benchmark.run();
  // bench/run.ts runs each script in a process of its own and reads the targets from here.
  const resultsFile = process.env.BENCH_RESULTS_FILE;
  if (resultsFile) await writeFile(resultsFile, JSON.stringify({ met, targets: results }));
  process.exitCode = met ? 0 : 1;
}
