/**
 * `npm start`'s entry point and its settings: the app starts from the environment alone,
 * creates and seeds its database and image folder on first start (and only then), and prints
 * where it listens.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../examples/express-app/config.js';
import { isNewDatabase, openDatabase, redactUrl } from '../../examples/express-app/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { listFiles } from './fixture.js';
import { startServer } from './server-process.js';

describe('example app settings', () => {
  it('defaults to port 3000, var/ of the repository, its images/ folder and SQLite', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.varDir).toBe(join(process.cwd(), 'var'));
    expect(config.storeUrl).toBe(pathToFileURL(join(process.cwd(), 'var', 'images')).href);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.adminPassword).toBeUndefined();
  });

  it('reads PORT, VAR_DIR, IMAGEATTACH_STORE, DATABASE_URL and ADMIN_PASSWORD', () => {
    const config = loadConfig({
      PORT: '0',
      VAR_DIR: '/tmp/somewhere',
      IMAGEATTACH_STORE: 's3://bucket/images',
      DATABASE_URL: 'postgres://u:p@db/app',
      ADMIN_PASSWORD: 'pw',
    });
    expect(config).toEqual({
      port: 0,
      varDir: '/tmp/somewhere',
      storeUrl: 's3://bucket/images',
      databaseUrl: 'postgres://u:p@db/app',
      adminPassword: 'pw',
    });
    expect(loadConfig({ VAR_DIR: '/tmp/v', ADMIN_PASSWORD: ' ' }).storeUrl).toBe(
      'file:///tmp/v/images',
    );
    expect(loadConfig({ ADMIN_PASSWORD: ' ' }).adminPassword).toBeUndefined();
  });

  it('refuses a PORT that is not a port number', () => {
    for (const PORT of ['abc', '-1', '70000', '3.5']) {
      expect(() => loadConfig({ PORT })).toThrow(ConfigError);
    }
  });

  it('never shows a database password', () => {
    expect(redactUrl('postgres://user:secret@db:5432/app')).toBe('postgres://user:***@db:5432/app');
    expect(redactUrl('s3://KEY:SECRET@bucket/x')).not.toContain('SECRET');
    expect(redactUrl('file:///var/images')).toBe('file:///var/images');
  });

  it('opens SQLite under VAR_DIR, or PostgreSQL from DATABASE_URL when it is set', async () => {
    const dir = await makeTempDir('example-db');
    const sqlite = await openDatabase({ databaseUrl: undefined, varDir: join(dir.path, 'v') });
    try {
      expect(sqlite.sequelize.getDialect()).toBe('sqlite');
      expect(sqlite.description).toBe(`SQLite ${join(dir.path, 'v', 'app.sqlite')}`);
      expect(await isNewDatabase(sqlite.sequelize)).toBe(true);
    } finally {
      await sqlite.sequelize.close();
      await dir.remove();
    }
    const url = process.env.DATABASE_URL;
    if (!url) return;
    const postgres = await openDatabase({ databaseUrl: url, varDir: '/nonexistent' });
    try {
      expect(postgres.sequelize.getDialect()).toBe('postgres');
      expect(postgres.description).toBe(redactUrl(url));
    } finally {
      await postgres.sequelize.close();
    }
  });
});

describe('example app server', () => {
  let varDir: { path: string; remove: () => Promise<void> };
  beforeAll(async () => {
    varDir = await makeTempDir('example-var');
    await rm(varDir.path, { recursive: true });
  });
  afterAll(() => varDir?.remove());

  it('creates var/, seeds it on first start only, and prints its URL', async () => {
    const env = {
      VAR_DIR: varDir.path,
      DATABASE_URL: '',
      IMAGEATTACH_STORE: '',
      ADMIN_PASSWORD: '',
    };
    const first = await startServer(env);
    let seeded: string[];
    try {
      expect(first.output()).toContain('First start');
      expect(first.output()).toContain('admin:    disabled');
      const users = (await (await fetch(`${first.url}api/users`)).json()) as {
        users: Array<{ name: string; picture: unknown }>;
      };
      expect(users.users.length).toBeGreaterThanOrEqual(3);
      expect(users.users.filter((user) => user.picture !== null).length).toBeGreaterThanOrEqual(2);
      const home = await fetch(first.url);
      expect(home.status).toBe(200);
      seeded = await listFiles(join(varDir.path, 'images'));
      expect(seeded.length).toBeGreaterThan(0);
      expect(await listFiles(varDir.path)).toContain('app.sqlite');
    } finally {
      await first.stop();
    }

    const second = await startServer({ ...env, ADMIN_PASSWORD: 'pw' });
    try {
      expect(second.output()).not.toContain('First start');
      expect(second.output()).toMatch(/admin: {4}http:\/\/localhost:\d+\/admin/);
      expect(await listFiles(join(varDir.path, 'images'))).toEqual(seeded);
      const admin = await fetch(`${second.url}admin`, {
        headers: { Authorization: `Basic ${Buffer.from('x:pw').toString('base64')}` },
      });
      expect(admin.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('exits with the reason when the store URL is wrong', async () => {
    const bad = startServer({
      VAR_DIR: varDir.path,
      DATABASE_URL: '',
      IMAGEATTACH_STORE: 'ftp://nowhere/',
    });
    await expect(bad).rejects.toThrow(/E_INVALID_STORE_URL|not a store scheme/);
  });
});
