/**
 * Opens the app's database: PostgreSQL or MySQL/MariaDB (with `mysql2` installed) when
 * `DATABASE_URL` is set, else a SQLite file under the var folder, created on first use.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Sequelize } from 'sequelize';
import { configureSqlite } from '../../src/index.js';
import type { AppConfig } from './config.js';

export interface OpenedDatabase {
  sequelize: Sequelize;
  /** What to print at start-up: the SQLite path, or the PostgreSQL URL without its password. */
  description: string;
}

export async function openDatabase(
  config: Pick<AppConfig, 'databaseUrl' | 'varDir'>,
): Promise<OpenedDatabase> {
  if (config.databaseUrl !== undefined) {
    const sequelize = new Sequelize(config.databaseUrl, { logging: false });
    await sequelize.authenticate();
    return { sequelize, description: redactUrl(config.databaseUrl) };
  }
  await mkdir(config.varDir, { recursive: true });
  const storage = join(config.varDir, 'app.sqlite');
  const sequelize = new Sequelize({ dialect: 'sqlite', storage, logging: false });
  // Uploads at once take turns inside the process; another process (the CLI's gc or migrate)
  // holding the lock is waited for up to the busy timeout.
  configureSqlite(sequelize, { busyTimeout: 5000 });
  // WAL: pages are read while an upload commits, instead of waiting for it. It is a property
  // of the file, so the CLI run next to the app gets it too.
  await sequelize.query('PRAGMA journal_mode=WAL');
  return { sequelize, description: `SQLite ${storage}` };
}

/** Whether the app's tables are still to be made (a first start, which seeds them). */
export async function isNewDatabase(sequelize: Sequelize): Promise<boolean> {
  return !(await sequelize.getQueryInterface().tableExists('users'));
}

/** A URL without the password in it, for logs and pages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.href;
  } catch {
    return url;
  }
}
