/**
 * Progress output: a bar redrawn in place on a terminal, plain lines (at most one a second)
 * anywhere else, such as a log file or CI.
 */
import type { MigrationSummary } from '../migration/types.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 24;

export class ProgressReporter {
  readonly #out: ProgressStream;
  readonly #tty: boolean;
  readonly #interval: number;
  readonly #now: () => number;
  #started = 0;
  #lastDraw = -Infinity;
  #drawn = false;

  constructor(out: ProgressStream, options: { interval?: number; now?: () => number } = {}) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#now = options.now ?? Date.now;
    this.#interval = options.interval ?? (this.#tty ? 100 : 1000);
  }

  start(total: number, dryRun: boolean): void {
    this.#started = this.#now();
    const what = dryRun ? 'Checking (dry run, nothing is written)' : 'Migrating';
    this.#out.write(`${what} ${total} image${total === 1 ? '' : 's'}\n`);
  }

  /** Draws when the interval has passed, or always when `force`. */
  update(progress: MigrationSummary, force = false): void {
    const now = this.#now();
    if (!force && now - this.#lastDraw < this.#interval) return;
    this.#lastDraw = now;
    const line = this.line(progress, now);
    if (this.#tty) {
      const width = Math.max(20, (this.#out.columns ?? 80) - 1);
      this.#out.write(`\r${line.slice(0, width).padEnd(width)}`);
      this.#drawn = true;
    } else {
      this.#out.write(`${line}\n`);
    }
  }

  /** Ends the bar's line, so that what follows starts on a new one. */
  finish(progress: MigrationSummary): void {
    this.update(progress, true);
    if (this.#tty && this.#drawn) this.#out.write('\n');
  }

  /** `[#####-----] 120/480 · 25.0% · 40.0 img/s · 1.2 MB/s · ETA 0:09 · 2 failed` */
  line(progress: MigrationSummary, now = this.#now()): string {
    const { done, total, bytes, failed, skipped } = progress;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const seconds = Math.max(0.001, (now - this.#started) / 1000);
    const rate = done / seconds;
    const eta = rate > 0 && total > done ? formatDuration((total - done) / rate) : '--:--';
    const parts = [
      `${done}/${total}`,
      `${(fraction * 100).toFixed(1)}%`,
      `${rate.toFixed(1)} img/s`,
      `${formatBytes(bytes / seconds)}/s`,
      `ETA ${eta}`,
    ];
    if (skipped > 0) parts.push(`${skipped} skipped`);
    if (failed > 0) parts.push(`${failed} failed`);
    if (!this.#tty) return parts.join(', ');
    const filled = Math.round(fraction * BAR_WIDTH);
    return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${parts.join(' · ')}`;
  }
}

export function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
