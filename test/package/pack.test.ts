/**
 * The package as its users meet it: packed with `npm pack` (which builds it), its file list,
 * publint and arethetypeswrong on the tarball, then installed into a fresh folder without the
 * AWS SDK or any other optional peer, where the README's Install app runs as ESM and as
 * CommonJS, two small apps attach an image and read it back, and the S3 subpath fails with the
 * command that installs the SDK.
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
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { exerciseInstallApp, startApp, toJavaScript } from '../docs/readme-app.js';
import { installApp } from '../docs/readme-blocks.js';

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

/** The version of a package the project has installed (npm's cache has its tarball). */
async function versionOf(name: string): Promise<string> {
  const file = join(ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version;
}

/** The SDK packages `sequelize-imageattach/s3` needs (the install command of its error). */
const S3_PEERS = SDK_INSTALL.split(' ').slice(2);

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
  const wanted = [
    tarball,
    `sequelize@${await versionOf('sequelize')}`,
    `express@${await versionOf('express')}`,
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
  // sqlite3 for the apps; pg (pure JavaScript, linked too for speed) for the worker's check.
  for (const name of ['sqlite3', 'pg']) {
    await symlink(join(ROOT, 'node_modules', name), join(app, 'node_modules', name), 'dir');
  }
  await writeFile(
    join(app, 'pg-models.mjs'),
    "import { Sequelize } from 'sequelize';\n" +
      'export const sequelize = new Sequelize(process.env.DATABASE_URL, { logging: false });\n',
  );
  await copyFile(join(ROOT, 'test/fixtures/package-app/esm-app.js'), join(app, 'app.mjs'));
  await copyFile(join(ROOT, 'test/fixtures/package-app/cjs-app.js'), join(app, 'app.cjs'));
  // The README's app as a user would ship it: compiled to JavaScript, each form in its folder.
  const readmeApp = (await installApp(ROOT)).code;
  for (const format of ['esm', 'cjs'] as const) {
    await mkdir(join(app, `readme-${format}`));
    const file = join(app, `readme-${format}`, `app.${format === 'esm' ? 'mjs' : 'cjs'}`);
    await writeFile(file, toJavaScript(readmeApp, format));
  }
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

  it('says where it comes from and under which licence, as the registry shows it', async () => {
    const pkg = JSON.parse(
      await readFile(join(app, 'node_modules/sequelize-imageattach/package.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(pkg.license).toBe('MIT');
    const license = await readFile(join(app, 'node_modules/sequelize-imageattach/LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n/);
    const { repository, bugs } = pkg as { repository?: { type?: string; url?: string } } & {
      bugs?: { url?: string };
    };
    expect(repository?.type).toBe('git');
    expect(repository?.url).toMatch(/^git\+https:\/\//);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(bugs?.url).toMatch(/^https:\/\//);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['sequelize', 'express', 'image']));
    expect(pkg.scripts, 'no install scripts run on users').not.toHaveProperty('postinstall');
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
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const entries = Object.keys(pkg.exports).filter((subpath) => subpath !== './package.json');
    expect(entries).toEqual(expect.arrayContaining(['.', './s3', './testing', './jobs']));
    for (const subpath of entries) {
      expect(result.stdout).toContain(`sequelize-imageattach${subpath.slice(1)}`);
    }
  });
});

describe('installed into a fresh app, without the AWS SDK', () => {
  it('did not install any optional peer (the AWS SDK, Vitest, pg-boss, pdfjs-dist)', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    const optional = Object.keys(pkg.peerDependenciesMeta);
    expect(optional).toEqual(expect.arrayContaining(['@aws-sdk/client-s3', 'vitest', 'pg-boss']));
    for (const name of optional)
      expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
    expect(existsSync(join(app, 'node_modules/sequelize-imageattach/dist/index.js'))).toBe(true);
  });

  it('runs an ESM app; the S3 and testing subpaths, storeFromUrl and PDF uploads name the install command', async () => {
    const result = await timed('esm app', () => run(process.execPath, ['app.mjs'], app));
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout) as {
      same: boolean;
      original: unknown[];
      thumbnail: unknown[];
      url: string;
      s3: { code: string; message: string }[];
      pdf: { code: string; option: string; message: string } | null;
      testing: { code: string; message: string } | null;
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
    expect(output.pdf?.message).toMatch(/npm install pdfjs-dist@\d/);
    expect(output.testing?.code).toBe('E_MISSING_DEPENDENCY');
    expect(output.testing?.message).toContain('npm install vitest');
  });

  it.each([
    ['ESM', 'esm', 'app.mjs'],
    ['CommonJS', 'cjs', 'app.cjs'],
  ])("runs the README's Install app as %s", async (_name, format, file) => {
    const running = await timed(`readme ${format} start`, () =>
      startApp([file], join(app, `readme-${format}`)),
    );
    try {
      await exerciseInstallApp(running.base);
    } finally {
      await running.stop();
    }
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

  it('has the worker command, which names the command that installs pg-boss', async () => {
    // Nothing listens there: the worker needs pg-boss before it connects to anything.
    const result = await run(
      join(app, 'node_modules/.bin/sequelize-imageattach'),
      [
        ...['worker', '--models', 'pg-models.mjs', '--store', pathToFileURL(join(app, 'w')).href],
        ...['--database', 'postgres://user:secret@127.0.0.1:9/none'],
      ],
      app,
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('npm install pg-boss@10');
  });

  it('has the command-line tool, which lists its commands', async () => {
    const result = await run(join(app, 'node_modules/.bin/sequelize-imageattach'), [], app);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `Name a command: ${COMMANDS.map((command) => command.name).join(', ')}.`,
    );
  });
});

describe('installed with the AWS SDK but without @aws-sdk/s3-presigned-post', () => {
  let s3App: string;

  beforeAll(async () => {
    s3App = join(dir, 's3-app');
    await mkdir(s3App);
    await writeFile(join(s3App, 'package.json'), JSON.stringify({ name: 's3-app', private: true }));
    const sdk = await Promise.all(S3_PEERS.map(async (name) => `${name}@${await versionOf(name)}`));
    let installed = await timed('s3 install --offline', () =>
      run(npm, ['install', '--offline', '--no-audit', '--no-fund', tarball, ...sdk], s3App),
    );
    if (installed.code !== 0) {
      installed = await timed('s3 install --prefer-offline', () =>
        run(
          npm,
          ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...sdk],
          s3App,
        ),
      );
    }
    if (installed.code !== 0) throw new Error(`npm install failed:\n${installed.stderr}`);
    await copyFile(join(ROOT, 'test/fixtures/package-app/s3-app.js'), join(s3App, 'app.mjs'));
  }, 600_000);

  it('loads the S3 stores by import and require, with a client the app made; direct uploads name their package', async () => {
    expect(existsSync(join(s3App, 'node_modules/@aws-sdk/client-s3'))).toBe(true);
    expect(existsSync(join(s3App, 'node_modules/@aws-sdk/s3-presigned-post'))).toBe(false);
    const result = await timed('s3 app', () => run(process.execPath, ['app.mjs'], s3App));
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout) as {
      url: string;
      sameClient: boolean;
      sameModule: boolean;
      direct: { code: string; message: string } | null;
    };
    expect(output.url).toBe('https://cdn.example.com/user/1234/100x80.jpe');
    expect(output.sameClient).toBe(true);
    expect(output.sameModule).toBe(true);
    expect(output.direct?.code).toBe('E_MISSING_DEPENDENCY');
    expect(output.direct?.message).toContain('npm install @aws-sdk/s3-presigned-post');
  });
});
