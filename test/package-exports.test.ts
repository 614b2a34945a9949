/**
 * The `exports` map of package.json and the build agree: every entry's `types` and `default`
 * files are emitted, and the entries import. Builds into a temporary folder inside the
 * project, so that the built files resolve their dependencies from its node_modules.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { readPdf as readPdfFromSource } from '../src/images/pdf-render.js';
import { THREE_PAGES } from './images/pdf-fixtures.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

interface PackageJson {
  main: string;
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
  bin?: Record<string, string>;
}

const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** `./dist/stores/x.js` → `src/stores/x.ts`: the source a built file comes from. */
function sourceOf(target: string): string {
  return target.replace(/^\.\/dist\//, 'src/').replace(/\.(d\.ts|js)$/, '.ts');
}

/** The export entries whose sources exist (others are still being written). */
const ENTRIES = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
  typeof target === 'string' || !existsSync(join(ROOT, sourceOf(target.default)))
    ? []
    : [{ subpath, ...target }],
);

let out: string;
beforeAll(async () => {
  await mkdir(join(ROOT, 'test-output'), { recursive: true });
  out = await mkdtemp(join(ROOT, 'test-output', 'dist-'));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // The real build configuration (declarations included); maps only slow it down.
  const args = ['-p', 'tsconfig.build.json', '--outDir', out];
  const noMaps = ['--sourceMap', 'false', '--inlineSources', 'false'];
  await run(process.execPath, [tsc, ...args, ...noMaps], {
    cwd: ROOT,
  }).catch((error: { stdout?: string; message: string }) => {
    throw new Error(`the build failed:\n${error.stdout ?? error.message}`);
  });
});
afterAll(async () => {
  if (out !== undefined) await rm(out, { recursive: true, force: true });
});

/** Where a `./dist/…` target of package.json was emitted in this build. */
function built(target: string): string {
  expect(target, 'every target lies in ./dist/').toMatch(/^\.\/dist\//);
  return join(out, target.slice('./dist/'.length));
}

describe('package.json exports and the build', () => {
  it('lists `.` and `./s3`, each with types first, and ./package.json', () => {
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './s3']));
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') {
        expect(subpath).toBe('./package.json');
        expect(target).toBe('./package.json');
      } else {
        expect(Object.keys(target), subpath).toEqual(['types', 'default']);
      }
    }
    expect(ENTRIES.map((entry) => entry.subpath)).toContain('.');
  });

  it('agrees with main and types', () => {
    expect(pkg.exports['.']).toEqual({ types: pkg.types, default: pkg.main });
  });

  it('emits the types and default file of every entry whose source exists', () => {
    for (const entry of ENTRIES) {
      expect(existsSync(built(entry.types)), `${entry.subpath} types ${entry.types}`).toBe(true);
      expect(existsSync(built(entry.default)), `${entry.subpath} ${entry.default}`).toBe(true);
    }
  });

  it('emits the bin targets whose source exists', () => {
    for (const [name, target] of Object.entries(pkg.bin ?? {})) {
      if (!existsSync(join(ROOT, sourceOf(target)))) continue;
      expect(existsSync(built(target)), `bin ${name} ${target}`).toBe(true);
    }
  });

  it('imports the built `.` entry, which exposes the public names', async () => {
    const core = (await import(pathToFileURL(built(pkg.main)).href)) as Record<string, unknown>;
    for (const name of [
      'Store',
      'FileSystemStore',
      'HttpExposedFileSystemStore',
      'serveImages',
      'storeContext',
      'getCurrentStore',
      'extensionFor',
      'ImageAttachError',
      'ImageNotFoundError',
      'StoreError',
      'ContextError',
      'InvalidOptionError',
      'UrlUnavailableError',
    ]) {
      expect(core[name], name).toBeDefined();
    }
    // Internals are imported by path in the repository, never from the package.
    for (const name of [
      'BaseFileSystemStore',
      'BaseImageSet',
      'cacheBuster',
      'chainSources',
      'modelImageSource',
      'imageModelsOf',
      'machineConcurrency',
      'defaultConcurrency',
      'sniffImageType',
      'findSvgProblem',
      'thumbnailDimensions',
      'pushStoreContext',
      'popStoreContext',
      'resolveStore',
      'EXTENSIONS',
    ]) {
      expect(core[name], name).toBeUndefined();
    }
    expect(Object.keys(core).length, 'a narrow API').toBeLessThanOrEqual(60);
    expect(core.default, 'no default export').toBeUndefined();
    const { FileSystemStore } = core as {
      FileSystemStore: new (options: { path: string; baseUrl: string }) => {
        getUrl(...key: [string, number, number, number, string]): string;
      };
    };
    const store = new FileSystemStore({ path: out, baseUrl: 'http://img.example/' });
    expect(store.getUrl('user', 1234, 100, 80, 'image/jpeg')).toBe(
      'http://img.example/user/234/1/1234.100x80.jpe',
    );
  });

  it('builds `./jobs` without importing pg-boss, an optional peer the caller passes in', async () => {
    const target = pkg.exports['./jobs'];
    if (typeof target !== 'object') throw new Error('./jobs is missing from exports');
    const jobs = (await import(pathToFileURL(built(target.default)).href)) as Record<
      string,
      unknown
    >;
    expect(typeof jobs.imageJobs).toBe('function');
    const sources = await Promise.all(
      ['jobs.js', 'jobs/image-jobs.js', 'jobs/fetch-loops.js', 'jobs/job-kinds.js'].map((file) =>
        readFile(join(out, file), 'utf8'),
      ),
    );
    for (const source of sources) expect(source).not.toMatch(/from ['"]pg-boss['"]/);
  });

  // From source the PDF reader's worker is TypeScript, loaded through tsx (as every other test
  // runs it); only the build runs it as users do, from the `.js` file beside the reader.
  it('reads and renders a PDF in the built worker thread (dist/images/pdf-worker.js)', async () => {
    expect(existsSync(join(out, 'images/pdf-worker.js'))).toBe(true);
    const built = pathToFileURL(join(out, 'images/pdf-render.js')).href;
    const { readPdf } = (await import(built)) as { readPdf: typeof readPdfFromSource };
    const { png, pages, width, height } = await readPdf(THREE_PAGES, {
      bound: { width: 40, height: 20 },
    });
    expect({ pages, width, height }).toEqual({ pages: 3, width: 200, height: 100 });
    const metadata = await sharp(png).metadata();
    expect(metadata.format).toBe('png');
    expect(metadata.width).toBeGreaterThanOrEqual(40);
    expect(metadata.height).toBeGreaterThanOrEqual(20);
  });

  it('imports every other built entry whose source exists', async () => {
    for (const entry of ENTRIES.filter((e) => e.subpath !== '.')) {
      const module = (await import(pathToFileURL(built(entry.default)).href)) as object;
      expect(Object.keys(module).length, entry.subpath).toBeGreaterThan(0);
    }
  });
});
