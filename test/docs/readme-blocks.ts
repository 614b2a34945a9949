/**
 * The TypeScript blocks of README.md, with the markers before each (see test/docs/readme.test.ts
 * for the conventions), for the tests that type-check and run them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ReadmeBlock {
  /** The README line of the block's first line of code. */
  line: number;
  code: string;
  prelude: string;
  file: string;
  run: boolean;
}

/** The ```ts blocks of a Markdown text, with the markers before each. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  let prelude: string[] = [];
  let run = false;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '<!-- readme-test: run -->') run = true;
    else if (line.trim() === '<!-- readme-test: prelude') {
      for (i += 1; i < lines.length && lines[i]!.trim() !== '-->'; i += 1) prelude.push(lines[i]!);
    } else if (/^```(ts|typescript)\s*$/.test(line)) {
      const start = i + 1;
      const code: string[] = [];
      for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i]!); i += 1) code.push(lines[i]!);
      const named = /^\/\/ ([\w-]+\.ts)$/.exec(code[0] ?? '');
      blocks.push({
        line: start + 1,
        code: code.join('\n'),
        prelude: prelude.join('\n'),
        file: named?.[1] ?? `block-${start + 1}.ts`,
        run,
      });
      prelude = [];
      run = false;
    } else if (line.trim() !== '' && !line.startsWith('<!--')) {
      // A marker applies to the block right after it only.
      prelude = [];
      run = false;
    }
  }
  return blocks;
}

/**
 * The complete app of the README's "Install" section: the first block marked to run after that
 * heading and before the next one.
 */
export async function installApp(root: string): Promise<ReadmeBlock> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const lines = readme.split('\n');
  const start = lines.indexOf('## Install') + 1;
  if (start === 0) throw new Error('README.md has no "## Install" section');
  const next = lines.findIndex((line, i) => i >= start && line.startsWith('## '));
  const end = next === -1 ? lines.length : next + 1;
  const app = readmeBlocks(readme).find((b) => b.run && b.line > start && b.line < end);
  if (app === undefined) throw new Error('the Install section has no block marked to run');
  return app;
}

/** The README block whose code contains `needle`. */
export async function readmeBlockWith(root: string, needle: string): Promise<ReadmeBlock> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const block = readmeBlocks(readme).find((b) => b.code.includes(needle));
  if (block === undefined) throw new Error(`no README block contains ${JSON.stringify(needle)}`);
  return block;
}

/**
 * The statements of `code` from the first line starting with `from` up to the first line
 * starting with `to` (or the end), reduced to what a formatter cannot change: no comments, no
 * whitespace, no trailing commas. For checking that a test's copy of README code is the README's.
 */
export function codeBetween(code: string, from: string, to?: string): string {
  const lines = code.split('\n');
  const start = lines.findIndex((line) => line.trimStart().startsWith(from));
  if (start === -1) throw new Error(`no line starts with ${JSON.stringify(from)}`);
  const stop =
    to === undefined ? -1 : lines.findIndex((l, i) => i > start && l.trimStart().startsWith(to));
  return lines
    .slice(start, stop === -1 ? undefined : stop)
    .join('\n')
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, '')
    .replace(/,(?=[)}\]])/g, '');
}

/** Points `sequelize-imageattach[/sub]` at the source, from a folder two levels down. */
export function toSource(code: string): string {
  return code.replace(
    /(['"])sequelize-imageattach(\/[a-z0-9-]+)?\1/g,
    (_match, quote: string, sub: string | undefined) =>
      `${quote}../../src${sub ?? '/index'}.js${quote}`,
  );
}
