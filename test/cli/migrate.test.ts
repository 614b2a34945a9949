/**
 * The command-line tool run as a child process, against the fixture app module and a real
 * SQLite file, as a user would run it.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Sequelize } from 'sequelize';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileSystemStore } from '../../src/index.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { defineMigrationModels, seedCovers } from '../migration/models.js';
import { createTestBucket, listKeys, s3Env } from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';
import { cli, ROOT } from './run-cli.js';

const MODELS = 'test/fixtures/migration-app/models.ts';

/** Every file under `dir`, relative path → bytes. */
async function tree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path));
  }
  return files;
}

describe('sequelize-imageattach migrate', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let sourceDir: string;
  let destDir: string;
  let dbUrl: string;
  let base: string[];

  beforeAll(async () => {
    temp = await makeTempDir('cli');
    sourceDir = join(temp.path, 'source');
    destDir = join(temp.path, 'dest');
    dbUrl = `sqlite:${join(temp.path, 'app.sqlite')}`;
    const sequelize = new Sequelize(dbUrl, { logging: false });
    const models = defineMigrationModels(sequelize);
    await sequelize.sync();
    await seedCovers(models, new FileSystemStore({ path: sourceDir, baseUrl: 'http://src/' }));
    await sequelize.close();
    base = [
      'migrate',
      '--from',
      `file://${sourceDir}?baseUrl=http://old.example/`,
      '--to',
      `file://${destDir}?baseUrl=http://new.example/`,
      '--models',
      MODELS,
      '--db',
      dbUrl,
    ];
  });
  afterAll(async () => {
    await temp?.remove();
  });
  beforeEach(async () => {
    await rm(destDir, { recursive: true, force: true });
  });

  it('copies every image, printing progress lines and a summary', async () => {
    const run = await cli([...base, '--verify', '--concurrency', '3']);
    expect(run.stderr).toContain('Migrating 10 images');
    expect(run.stderr).toMatch(/10\/10, 100\.0%, [\d.]+ img\/s, .*\/s, ETA/);
    expect(run.stderr).not.toContain('\r');
    expect(run.stdout).toMatch(/Done in [\d.]+ s: 10 migrated, 0 skipped, 0 failed/);
    expect(run.code).toBe(0);
    const source = await tree(sourceDir);
    expect(source.size).toBe(10);
    expect(await tree(destDir)).toEqual(source);
  });

  it('writes nothing with --dry-run', async () => {
    const run = await cli([...base, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Dry run in [\d.]+ s: 10 image\(s\) would be copied/);
    expect(run.stdout).toContain('Nothing was written.');
    await expect(stat(destDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('continues with --resume, copying only what the destination lacks', async () => {
    expect((await cli(base)).code).toBe(0);
    const copied = await tree(destDir);
    // As if a run had stopped halfway: four copies missing.
    const missing = [...copied.keys()].slice(0, 4);
    for (const path of missing) await rm(join(destDir, path));
    const kept = [...copied.keys()].slice(4);
    const before = await Promise.all(kept.map(async (p) => (await stat(join(destDir, p))).mtimeMs));
    const run = await cli([...base, '--resume']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/4 migrated, 6 skipped, 0 failed/);
    expect(await tree(destDir)).toEqual(await tree(sourceDir));
    const after = await Promise.all(kept.map(async (p) => (await stat(join(destDir, p))).mtimeMs));
    expect(after).toEqual(before);
  });

  it('exits 1 and lists the images that failed, after copying the rest', async () => {
    const source = await tree(sourceDir);
    const [victim] = [...source.keys()].filter((path) => path.startsWith('samething-cover/'));
    await rm(join(sourceDir, victim!));
    try {
      const run = await cli(base);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/9 migrated, 0 skipped, 1 failed/);
      expect(run.stderr).toContain('1 image(s) failed:');
      expect(run.stderr).toMatch(
        /samething-cover\/\d+\/\d+x\d+ image\/jpeg \((original|thumbnail)\): ENOENT/,
      );
      expect((await tree(destDir)).size).toBe(9);
    } finally {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(sourceDir, victim!), source.get(victim!)!);
    }
  });

  it.each([
    [['migrate', '--to', 'file:///x', '--models', MODELS], /--from is required/],
    [['copy'], /Unknown command "copy"/],
    [['migrate', '--from', 'file:///a', '--to', 'file:///a', '--models', MODELS], /same store/],
    [
      ['migrate', '--from', 'ftp://a', '--to', 'file:///b', '--models', MODELS],
      /--from ftp:\/\/a: .*scheme/,
    ],
    [
      [
        'migrate',
        '--from',
        'file:///a',
        '--to',
        'file:///b',
        '--models',
        MODELS,
        '--concurrency',
        '0',
      ],
      /--concurrency/,
    ],
    [
      [
        'migrate',
        '--from',
        'file:///a',
        '--to',
        'file:///b',
        '--models',
        'test/fixtures/nothing-here.ts',
      ],
      /could not be loaded/,
    ],
    [['migrate', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('copies to an s3: store named by URL', async () => {
    const bucket = await createTestBucket('cli');
    try {
      const env = s3Env();
      const to =
        `s3://${encodeURIComponent(env.accessKeyId)}:${encodeURIComponent(env.secretAccessKey)}@` +
        `${bucket.name}/moved?region=us-east-1&forcePathStyle=true` +
        `&endpoint=${encodeURIComponent(env.endpoint)}`;
      const run = await cli([...base.slice(0, 3), '--to', to, ...base.slice(5), '--verify']);
      expect(run.stdout).toMatch(/10 migrated, 0 skipped, 0 failed/);
      expect(run.code).toBe(0);
      const keys = await listKeys(bucket.client, bucket.name);
      expect(keys).toHaveLength(10);
      expect(keys.every((key) => key.startsWith('moved/'))).toBe(true);
    } finally {
      await bucket.remove();
    }
  });

  it('prints what it reads and writes before it copies anything', async () => {
    const run = await cli([...base, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `Dry run: would copy from the folder ${sourceDir} to the folder ${destDir}`,
    );
    expect(run.stderr).toContain(`the sqlite database ${join(temp.path, 'app.sqlite')}`);

    const real = await cli(base);
    expect(real.code).toBe(0);
    const [first] = real.stderr.split('\n');
    expect(first).toBe(
      `Copying from the folder ${sourceDir} to the folder ${destDir} (files there are replaced), ` +
        `for the image rows of the sqlite database ${join(temp.path, 'app.sqlite')} (read only).`,
    );
  });

  it('refuses a file: URL without slashes, showing the absolute file:// URL meant', async () => {
    const run = await cli([
      ...['migrate', '--from', 'file:var/images', '--to', `file://${destDir}`],
      ...['--models', MODELS, '--db', dbUrl],
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(pathToFileURL(join(ROOT, 'var/images')).href);
    expect(await tree(destDir)).toEqual(new Map());
  });

  it('lists every command when none or an unknown one is named', async () => {
    for (const args of [[], ['copy'], ['--from', 'file:///a']]) {
      const run = await cli(args);
      expect(run.code).toBe(2);
      const all = COMMANDS.map((command) => command.name).join(', ');
      expect(all.split(', ')).toEqual(expect.arrayContaining(['migrate', 'gc', 'worker']));
      // The one-line message itself names them all, not only the usage printed after it.
      expect(run.stderr).toMatch(
        args[0] === undefined ? `error: Name a command: ${all}.` : `the commands are ${all}.`,
      );
    }
  });

  it('prints help and the version', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of COMMANDS)
      expect(help.stdout).toMatch(new RegExp(`^  ${command.name} `, 'm'));
    const migrateHelp = await cli(['migrate', '--help']);
    expect(migrateHelp.code).toBe(0);
    expect(migrateHelp.stdout).toContain('--resume');
    const version = await cli(['--version']);
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});
