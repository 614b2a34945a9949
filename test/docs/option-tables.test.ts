/**
 * The README's table of `uploadImage` options is the code's: every option the upload options
 * resolve has a row, and each default the table shows is the one `resolveImageOptions` gives.
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveImageOptions } from '../../src/uploads/options.js';

const README = await readFile(new URL('../../README.md', import.meta.url), 'utf8');

/** Option name → the first code span of its default cell, from the table after `heading`. */
function tableAfter(heading: string): Map<string, string> {
  const start = README.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const lines = README.slice(start + heading.length + 2).split('\n');
  const table = lines.slice(lines.findIndex((line) => line.startsWith('|')));
  const rows = table.slice(
    0,
    table.findIndex((line) => !line.startsWith('|')),
  );
  return new Map(
    rows.flatMap((row) => {
      const match = /^\| `(\w+)` *\| *([^|]*?) *\|/.exec(row);
      return match === null ? [] : [[match[1]!, match[2]!] as const];
    }),
  );
}

/** A default cell as a value: `20971520` (20 MiB), `'keep'`, `['jpeg']`, `true`, `os.tmpdir()`. */
function valueOf(cell: string): unknown {
  const code = /^`([^`]+)`/.exec(cell)?.[1];
  if (code === undefined) return undefined;
  if (code === 'os.tmpdir()') return tmpdir();
  if (/^(\d+|true|false)$/.test(code)) return JSON.parse(code) as unknown;
  if (/^'[^']*'$/.test(code) || /^\[.*\]$/.test(code)) {
    return JSON.parse(code.replaceAll("'", '"')) as unknown;
  }
  return undefined;
}

describe("the README's uploadImage options table", () => {
  const table = tableAfter('`uploadImage(options)`:');
  const resolved = resolveImageOptions({}) as unknown as Record<string, unknown>;
  // Derived for messages, and an object rather than a setting: described in prose.
  const undocumentable = new Set(['mimetypes', 'queue']);

  it('has a row for every resolved option', () => {
    expect(table.size).toBeGreaterThan(15);
    const missing = Object.keys(resolved).filter(
      (name) => !undocumentable.has(name) && !table.has(name),
    );
    expect(missing).toEqual([]);
  });

  it('shows the defaults the code resolves', () => {
    let compared = 0;
    for (const [name, cell] of table) {
      if (!(name in resolved)) continue;
      const shown = valueOf(cell);
      if (shown === undefined) continue;
      const actual = resolved[name] instanceof Set ? [...resolved[name]] : resolved[name];
      expect(actual, name).toEqual(shown);
      compared += 1;
    }
    expect(compared).toBeGreaterThan(12);
  });
});
