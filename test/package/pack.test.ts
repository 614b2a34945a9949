/**
 * The package as its users meet it: packed with `npm pack` (which builds it), its file list,
 * publint and arethetypeswrong on the tarball, then installed into a fresh folder without the
 * AWS SDK, where an ESM app and a CommonJS app attach an image and read it back, and the S3
 * subpath fails with the command that installs the SDK (as PDFs do without pdf.js).
 */
import { execFile } from 'node:child_process';
import {
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  copyFile,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SDK_INSTALL =
  'npm install @aws-sdk/client-s3 @aws-sdk/lib-storage @aws-sdk/s3-request-presigner';
const exec = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, resolving with its exit code and output whatever the code. */
async function run(command: string, args: string[], cwd: string): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(command, args, {
      cwd,
      env: { ...process.env, NODE_NO_WARNINGS: '1', npm_config_update_notifier: 'false' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: unknown; stdout?: string; stderr?: string };
    return {
      code: typeof code === 'number' ? code : -1,
      stdout: stdout ?? '',
      stderr: stderr ?? '',
    };
  }
}

interface Packed {
  filename: string;
  files: { path: string }[];
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir: string;
let tarball: string;
let files: string[];
let app: string;
/** How long each step took, printed at the end (measured, never asserted). */
const timings: Record<string, number> = {};

async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    timings[name] = Date.now() - started;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'imageattach-pack-'));
  const packed = await timed('pack (with build)', () =>
    run(npm, ['pack', '--json', '--pack-destination', dir], ROOT),
  );
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Packed[];
  tarball = join(dir, info!.filename);
  files = info!.files.map((file) => file.path).sort();

  // A fresh app: from npm's cache when it can, the registry for what the cache lacks. The
  // project's built sqlite3 is linked rather than built again (that costs 20 to 100 s).
  app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true }));
  const version = async (name: string) =>
    (
      JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  const wanted = [
    tarball,
    `sequelize@${await version('sequelize')}`,
    `express@${await version('express')}`,
  ];
  let installed = await timed('install --offline', () =>
    run(npm, ['install', '--offline', '--no-audit', '--no-fund', ...wanted], app),
  );
  if (installed.code !== 0) {
    installed = await timed('install --prefer-offline', () =>
      run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', ...wanted], app),
    );
  }
  if (installed.code !== 0) throw new Error(`npm install failed:\n${installed.stderr}`);
  await symlink(join(ROOT, 'node_modules', 'sqlite3'), join(app, 'node_modules', 'sqlite3'), 'dir');
  await copyFile(join(ROOT, 'test/fixtures/package-app/esm-app.js'), join(app, 'app.mjs'));
  await copyFile(join(ROOT, 'test/fixtures/package-app/cjs-app.js'), join(app, 'app.cjs'));
}, 600_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  console.log(`pack test timings (ms): ${JSON.stringify(timings)}`);
});

describe('the packed tarball', () => {
  it('holds the build, the README, the LICENSE and package.json, and no sources or tests', async () => {
    for (const file of files) {
      expect(file, 'only dist/ and the three files').toMatch(
        /^(dist\/.+|LICENSE|README\.md|package\.json)$/,
      );
      expect(file).not.toMatch(/(^|\/)(src|test)\/|\.test\.|\.tsbuildinfo$/);
    }
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | Record<string, string>>;
      bin: Record<string, string>;
    };
    const targets = Object.values(pkg.exports).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target),
    );
    for (const target of [...targets, ...Object.values(pkg.bin)]) {
      expect(files, `${target} is packed`).toContain(target.replace(/^\.\//, ''));
    }
  });

  it('carries its sources inside its source maps', async () => {
    const dist = join(app, 'node_modules/sequelize-imageattach/dist');
    const maps = (await readdir(dist, { recursive: true })).filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const file of maps) {
      const map = JSON.parse(await readFile(join(dist, file), 'utf8')) as {
        sources: string[];
        sourcesContent?: unknown[];
      };
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      expect(map.sourcesContent!.every((text) => typeof text === 'string' && text !== '')).toBe(
        true,
      );
    }
  });

  it('passes publint', async () => {
    const publint = join(ROOT, 'node_modules/publint/src/cli.js');
    const result = await timed('publint', () =>
      run(process.execPath, [publint, 'run', tarball, '--strict', '--level', 'suggestion'], dir),
    );
    expect(`${result.stdout}${result.stderr}`).toContain('All good');
    expect(result.code).toBe(0);
  });

  it('passes arethetypeswrong for ESM-only packages, on every entry point', async () => {
    const attw = join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    const result = await timed('attw', () =>
      run(
        process.execPath,
        [attw, tarball, '--profile', 'esm-only', '--format', 'table-flipped'],
        dir,
      ),
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const entry of [
      'sequelize-imageattach',
      'sequelize-imageattach/s3',
      'sequelize-imageattach/testing',
    ]) {
      expect(result.stdout).toContain(entry);
    }
  });
});

describe('installed into a fresh app, without the AWS SDK or pdf.js', () => {
  it('did not install the SDK, Vitest or pdf.js (optional peers)', () => {
    expect(existsSync(join(app, 'node_modules/@aws-sdk'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/pdfjs-dist'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/sequelize-imageattach/dist/index.js'))).toBe(true);
  });

  it('runs an ESM app; the S3 subpath, storeFromUrl and PDF uploads name the install command', async () => {
    const result = await timed('esm app', () => run(process.execPath, ['app.mjs'], app));
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout) as {
      same: boolean;
      original: unknown[];
      thumbnail: unknown[];
      url: string;
      s3: { code: string; message: string }[];
      pdf: { code: string; option: string; message: string } | null;
    };
    expect(output.same).toBe(true);
    expect(output.original).toEqual([40, 30, 'image/png']);
    expect(output.thumbnail).toEqual([20, 15]);
    expect(output.url).toMatch(
      /^https:\/\/img\.example\.com\/user-picture\/1\/0\/1\.40x30\.png\?_ts=\d{20}$/,
    );
    expect(output.s3).toHaveLength(2);
    for (const failure of output.s3) {
      expect(failure.code).toBe('E_MISSING_DEPENDENCY');
      expect(failure.message).toContain(SDK_INSTALL);
    }
    expect(output.pdf).toMatchObject({ code: 'E_INVALID_OPTION', option: 'formats' });
    expect(output.pdf?.message).toContain('npm install pdfjs-dist@5.6.205');
  });

  it('runs a CommonJS app through require(esm); require of the S3 subpath names the command', async () => {
    const result = await timed('cjs app', () => run(process.execPath, ['app.cjs'], app));
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout) as {
      same: boolean;
      original: unknown[];
      s3: { code: string; message: string } | null;
    };
    expect(output.same).toBe(true);
    expect(output.original).toEqual([1, 1, 'image/png']);
    expect(output.s3?.code).toBe('E_MISSING_DEPENDENCY');
    expect(output.s3?.message).toContain(SDK_INSTALL);
  });

  it('has the command-line tool, which lists its commands', async () => {
    const result = await run(join(app, 'node_modules/.bin/sequelize-imageattach'), [], app);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Name a command: migrate, gc[,.]/);
  });
});
