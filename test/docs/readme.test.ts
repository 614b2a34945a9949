/**
 * Docs that run: every TypeScript block of README.md and of docs/*.md is type-checked against
 * the source, and the complete programs among them are run against SQLite and a temporary
 * folder.
 *
 * Conventions (for whoever adds a block):
 * - each block is a module of its own; `sequelize-imageattach` (and its subpaths) resolve to
 *   `src/`;
 * - names a block uses without declaring (`app`, `store`, `sequelize`, `image`, `User`, `Post`,
 *   …) are declared in test/docs/readme-prelude.d.ts.txt (not .ts, so
 *   that the project's own type check does not see them as globals);
 * - a block whose first line is `// name.ts` is written under that name, so later blocks can
 *   import it (`./name.js`);
 * - `<!-- readme-test: prelude … -->` right before a block adds hidden lines to it (a
 *   declaration of another type, say);
 * - `<!-- readme-test: run -->` right before a block marks a complete program: it is run, and
 *   must print `Listening on <url>`.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exerciseInstallApp, startApp } from './readme-app.js';
import { installApp, readmeBlocks, toSource, type ReadmeBlock } from './readme-blocks.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The block as written to disk: hidden prelude first, then the code, always a module. */
function moduleText(block: ReadmeBlock): string {
  const prelude = block.prelude === '' ? '' : `${block.prelude}\n`;
  return toSource(`${prelude}${block.code}\nexport {};\n`);
}

/** A block and the Markdown file it is in. */
type DocBlock = ReadmeBlock & { doc: string };

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const docs = (await readdir(join(ROOT, 'docs'))).filter((name) => name.endsWith('.md'));
/** README's blocks, then those of docs/ (unnamed ones prefixed, to keep their files apart). */
const blocks: DocBlock[] = [
  ...readmeBlocks(readme).map((block) => ({ ...block, doc: 'README.md' })),
  ...(
    await Promise.all(
      docs.map(async (name) =>
        readmeBlocks(await readFile(join(ROOT, 'docs', name), 'utf8')).map((block) => ({
          ...block,
          doc: `docs/${name}`,
          file: block.file.startsWith('block-')
            ? `${name.replace(/\.md$/, '')}-${block.file}`
            : block.file,
        })),
      ),
    )
  ).flat(),
];
const run = promisify(execFile);

describe('README TypeScript blocks', () => {
  const dir = join(ROOT, 'test-output', `readme-${process.pid}`);
  /** File name → its errors, as `README.md:<line>: TS…`. */
  const errors = new Map<string, string[]>();

  beforeAll(async () => {
    await mkdir(dir, { recursive: true });
    const prelude = await readFile(join(ROOT, 'test/docs/readme-prelude.d.ts.txt'), 'utf8');
    await writeFile(join(dir, 'readme-prelude.d.ts'), toSource(prelude));
    for (const block of blocks) await writeFile(join(dir, block.file), moduleText(block));
    // A block that must fail proves the check is on.
    await writeFile(join(dir, 'canary.ts'), "const n: number = 'not a number';\nexport { n };\n");
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'] }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = await run(
      process.execPath,
      [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'],
      {
        cwd: ROOT,
        maxBuffer: 16 * 1024 * 1024,
      },
    ).catch((error: { stdout: string }) => error);
    for (const match of result.stdout.matchAll(/^(?:.*[\\/])?([\w-]+\.ts)\((\d+),\d+\): (.*)$/gm)) {
      const [, file, line, message] = match as unknown as [string, string, string, string];
      const block = blocks.find((b) => b.file === file);
      const preludeLines =
        block === undefined || block.prelude === '' ? 0 : block.prelude.split('\n').length;
      const where =
        block === undefined ? file : `${block.doc}:${block.line + Number(line) - 1 - preludeLines}`;
      errors.set(file, [...(errors.get(file) ?? []), `${where}: ${message}`]);
    }
  }, 240_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the blocks, and reports an error in one', () => {
    expect(blocks.filter((block) => block.doc === 'README.md').length).toBeGreaterThan(10);
    expect(blocks.some((block) => block.doc.startsWith('docs/'))).toBe(true);
    expect(new Set(blocks.map((block) => block.file)).size).toBe(blocks.length);
    expect(errors.get('canary.ts')?.join('\n')).toMatch(/TS2322/);
  });

  it('has no JavaScript block, which would escape the type check', () => {
    expect(readme.match(/^```(js|javascript|mjs|cjs|jsx|tsx)\s*$/gm) ?? []).toEqual([]);
  });

  it.each(blocks.map((block) => [`${block.doc}:${block.line}`, block] as const))(
    'the block at %s type-checks',
    (_line, block) => {
      expect(errors.get(block.file) ?? []).toEqual([]);
    },
  );
});

describe('README complete programs', () => {
  const programs = blocks.filter((block) => block.run);

  it('the Install section has one', async () => {
    expect(programs).toContainEqual({ ...(await installApp(ROOT)), doc: 'README.md' });
  });

  it.each(programs.map((block) => [block.line, block] as const))(
    'the app at README.md:%i serves uploads and pictures on SQLite and a folder',
    async (_line, block) => {
      const dir = join(ROOT, 'test-output', `readme-run-${process.pid}-${block.line}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'app.ts'), moduleText(block));
      try {
        const app = await startApp(['--import', 'tsx', 'app.ts'], dir);
        try {
          await exerciseInstallApp(app.base);
        } finally {
          await app.stop();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
