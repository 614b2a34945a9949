/**
 * `sequelize-imageattach gc` run as a child process against the fixture app module, a real
 * SQLite file and a file-system or S3 store, as an operator would run it.
 */
import { mkdir, readdir, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Sequelize } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemStore } from '../../src/index.js';
import { parseDuration } from '../../src/cli/gc-command.js';
import { newToken, stagedJournalModel } from '../../src/models/staged-journal.js';
import { S3Store } from '../../src/s3.js';
import { defineMigrationModels, seedCovers } from '../migration/models.js';
import { createTestBucket, listKeys, s3Env, s3StoreOptions } from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';
import { cli, ROOT } from './run-cli.js';

const MODELS = 'test/fixtures/migration-app/models.ts';
const DAY = 86_400_000;

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe('sequelize-imageattach gc', () => {
  let temp: { path: string; remove: () => Promise<void> };
  let storeDir: string;
  let dbUrl: string;
  let base: string[];
  const orphan = 'something-cover/999/0/999.10x10.png';
  const fresh = 'something-cover/998/0/998.10x10.png';

  beforeAll(async () => {
    temp = await makeTempDir('cli-gc');
    storeDir = join(temp.path, 'store');
    dbUrl = `sqlite:${join(temp.path, 'app.sqlite')}`;
    const sequelize = new Sequelize(dbUrl, { logging: false });
    const models = defineMigrationModels(sequelize);
    await sequelize.sync();
    const store = new FileSystemStore({ path: storeDir, baseUrl: 'http://x/' });
    await seedCovers(models, store);
    // One thumbnail's file lost, one old orphan, one orphan within the grace period.
    const thumbnail = await models.SomethingCover.findOne({ where: { width: 100 } });
    await store.delete(thumbnail!);
    await sequelize.close();
    for (const name of [orphan, fresh]) {
      await mkdir(join(storeDir, name, '..'), { recursive: true });
      await writeFile(join(storeDir, name), 'not owned');
    }
    const old = new Date(Date.now() - 2 * DAY);
    await utimes(join(storeDir, orphan), old, old);
    base = [
      'gc',
      '--store',
      `file://${storeDir}?baseUrl=http://x/`,
      '--models',
      MODELS,
      '--db',
      dbUrl,
    ];
  });
  afterAll(async () => {
    await temp?.remove();
  });

  it('reports orphans past the grace period and missing files, deleting nothing', async () => {
    const before = await files(storeDir);
    const run = await cli(base);
    expect(run.stdout).toContain('Checked 10 row(s) and 11 file(s).');
    expect(run.stdout).toContain('1 orphan file(s) (run with --delete to remove them)');
    expect(run.stdout).toContain('1 unowned file(s) within the grace period left alone');
    expect(run.stderr).toContain(`Checking (nothing is removed) the folder ${storeDir}`);
    expect(run.stderr).toContain(`${join(temp.path, 'app.sqlite')} (read only).\n`);
    expect(run.stdout).toContain(`orphan ${orphan}`);
    expect(run.stdout).toMatch(
      /missing SomethingCover something-cover\/\d+\/100x158 image\/jpeg \(thumbnail\)/,
    );
    // A missing file needs attention: exit 1.
    expect(run.code).toBe(1);
    expect(await files(storeDir)).toEqual(before);
  });

  it('prints JSON with --json, and takes --grace', async () => {
    const run = await cli([...base, '--json', '--grace', '0']);
    const report = JSON.parse(run.stdout) as {
      orphans: { name: string }[];
      recent: { name: string }[];
      missing: unknown[];
    };
    expect(report.orphans.map((file) => file.name).sort()).toEqual([fresh, orphan].sort());
    expect(report.recent).toEqual([]);
    expect(report.missing).toHaveLength(1);
  });

  it('refuses a file: URL without slashes before touching anything, showing the URL meant', async () => {
    const before = await files(storeDir);
    const run = await cli(['gc', '--store', 'file:var/images', '--models', MODELS, '--delete']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(pathToFileURL(join(ROOT, 'var/images')).href);
    expect(await files(storeDir)).toEqual(before);
  });

  it('removes the orphans with --delete, and never a row', async () => {
    const run = await cli([...base, '--delete']);
    expect(run.stderr).toContain(
      `Removing orphans from the folder ${storeDir}, against the image rows of the sqlite ` +
        `database ${join(temp.path, 'app.sqlite')} (read only; stale rows of ` +
        'imageattach_staged_file removed).\n',
    );
    expect(run.stdout).toContain('1 orphan file(s), 1 removed');
    const left = await files(storeDir);
    expect(left).not.toContain(orphan);
    expect(left).toContain(fresh);
    const sequelize = new Sequelize(dbUrl, { logging: false });
    const models = defineMigrationModels(sequelize);
    expect((await models.SomethingCover.count()) + (await models.SamethingCover.count())).toBe(10);
    await sequelize.close();
  });

  it('exits 0 once every row has its file and nothing else is asked', async () => {
    await unlink(join(storeDir, fresh));
    const sequelize = new Sequelize(dbUrl, { logging: false });
    const models = defineMigrationModels(sequelize);
    const thumbnail = await models.SomethingCover.findOne({ where: { width: 100 } });
    await thumbnail!.destroy({
      imageStore: new FileSystemStore({ path: storeDir, baseUrl: 'http://x/' }),
    });
    await sequelize.close();
    const run = await cli(base);
    expect(run.stdout).toContain('0 row(s) whose file is missing.');
    expect(run.code).toBe(0);
  });

  it('reports journal rows whose staged file is gone, and removes them with --delete', async () => {
    const sequelize = new Sequelize(dbUrl, { logging: false });
    await stagedJournalModel(sequelize).create({
      token: newToken(),
      objectType: 'something-cover',
      objectId: '1',
      width: 10,
      height: 10,
      mimetype: 'image/png',
      original: true,
      createdAt: new Date(Date.now() - 2 * DAY),
    });
    const dry = await cli(base);
    expect(dry.stdout).toContain(
      '1 staged-file journal row(s) whose staged file is gone (run with --delete to remove them).',
    );
    expect(dry.code).toBe(0);
    expect(await stagedJournalModel(sequelize).count()).toBe(1);
    const run = await cli([...base, '--delete']);
    expect(run.stdout).toContain(
      '1 staged-file journal row(s) whose staged file is gone, 1 removed.',
    );
    expect(await stagedJournalModel(sequelize).count()).toBe(0);
    await sequelize.close();
  });

  it.each([
    [['gc', '--models', MODELS], /--store is required/],
    [['gc', '--store', 'file:///tmp/x?baseUrl=http://x/'], /--models is required/],
    [['gc', '--store', 'ftp://x', '--models', MODELS], /Invalid store URL/],
    [
      [...['gc', '--store', 'file:///tmp/x?baseUrl=http://x/', '--models', MODELS], '--grace', '3'],
      /--grace must be/,
    ],
    [
      [...['gc', '--store', 'file:///tmp/x?baseUrl=http://x/', '--models', MODELS], '--nope'],
      /Unknown option/,
    ],
  ])('refuses %j with exit 2', async (args, message) => {
    const run = await cli(args);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
  });

  it('prints its help', async () => {
    const run = await cli(['gc', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--grace <duration>');
    expect((await cli(['--help'])).stdout).toMatch(/^ {2}gc {2}/m);
  });

  it('reconciles an s3: store named by URL', async () => {
    const bucket = await createTestBucket('cli-gc');
    const sequelize = new Sequelize(`sqlite:${join(temp.path, 's3.sqlite')}`, { logging: false });
    try {
      const models = defineMigrationModels(sequelize);
      await sequelize.sync();
      const store = new S3Store(s3StoreOptions(bucket.name, { prefix: 'app' }));
      await seedCovers(models, store);
      store.destroy();
      await bucket.client.send(
        new PutObjectCommand({
          Bucket: bucket.name,
          Key: 'app/something-cover/77/5x5.png',
          Body: 'x',
        }),
      );
      const env = s3Env();
      const url =
        `s3://${encodeURIComponent(env.accessKeyId)}:${encodeURIComponent(env.secretAccessKey)}@` +
        `${bucket.name}/app?region=us-east-1&forcePathStyle=true` +
        `&endpoint=${encodeURIComponent(env.endpoint)}`;
      const args = [
        'gc',
        '--store',
        url,
        '--models',
        MODELS,
        '--db',
        `sqlite:${join(temp.path, 's3.sqlite')}`,
      ];
      const dry = await cli([...args, '--grace', '0']);
      expect(dry.stdout).toContain('Checked 10 row(s) and 11 file(s).');
      expect(dry.stdout).toContain('orphan app/something-cover/77/5x5.png');
      expect(dry.code).toBe(0);
      const run = await cli([...args, '--grace', '0', '--delete']);
      expect(run.stdout).toContain('1 orphan file(s), 1 removed');
      expect(await listKeys(bucket.client, bucket.name)).toHaveLength(10);
    } finally {
      await sequelize.close();
      await bucket.remove();
    }
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['12h', 43_200_000],
    ['1d', DAY],
    ['1.5d', 1.5 * DAY],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '1', '-1d', '1w', 'd', '1 d x'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/--grace must be/);
  });
});
