import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, ProgressReporter } from '../../src/cli/progress.js';

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 100, write: (text: string) => writes.push(text) } };
}

const at = (done: number, extra: Partial<{ failed: number; skipped: number }> = {}) => ({
  total: 400,
  done,
  migrated: done,
  skipped: 0,
  failed: 0,
  bytes: done * 10_000,
  ...extra,
});

describe('ProgressReporter', () => {
  it('redraws one bar in place on a terminal, with count, rate and ETA', () => {
    let now = 0;
    const { writes, stream } = sink(true);
    const reporter = new ProgressReporter(stream, { now: () => now });
    reporter.start(400, false);
    now = 10_000;
    reporter.update(at(100, { failed: 2 }));
    const bar = writes.at(-1)!;
    expect(bar.startsWith('\r[######------------------] 100/400 · 25.0% · 10.0 img/s')).toBe(true);
    expect(bar).toContain('100.0 kB/s');
    expect(bar).toContain('ETA 0:30');
    expect(bar).toContain('2 failed');
    expect(bar).toHaveLength(100);
    now = 10_050;
    reporter.update(at(101));
    expect(writes).toHaveLength(2);
    reporter.finish(at(400));
    expect(writes.at(-1)).toBe('\n');
  });

  it('writes plain lines elsewhere, at most one per interval', () => {
    let now = 0;
    const { writes, stream } = sink(false);
    const reporter = new ProgressReporter(stream, { now: () => now });
    reporter.start(400, true);
    expect(writes[0]).toBe('Checking (dry run, nothing is written) 400 images\n');
    now = 2_000;
    reporter.update(at(200, { skipped: 5 }));
    now = 2_500;
    reporter.update(at(210));
    expect(writes).toEqual([
      writes[0],
      '200/400, 50.0%, 100.0 img/s, 1.0 MB/s, ETA 0:02, 5 skipped\n',
    ]);
    reporter.finish(at(400));
    expect(writes.at(-1)).toBe('400/400, 100.0%, 160.0 img/s, 1.6 MB/s, ETA --:--\n');
  });

  it('formats durations and sizes', () => {
    expect(formatDuration(59.2)).toBe('1:00');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_500_000)).toBe('1.5 MB');
  });
});
