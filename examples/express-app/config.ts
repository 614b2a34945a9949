/**
 * The example app's settings, read once from the environment: where it listens, where its
 * images and database live, and the admin password.
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface AppConfig {
  /** `PORT`; 0 picks a free port. @default 3000 */
  port: number;
  /** `VAR_DIR`: the folder of the SQLite file and the default image folder. @default var/ of the repository */
  varDir: string;
  /** `IMAGEATTACH_STORE`: a store URL (`file:///…`, `s3://…`). @default file:// of `varDir`/images */
  storeUrl: string;
  /** `DATABASE_URL`: a PostgreSQL or MySQL/MariaDB URL; without it, SQLite at `varDir`/app.sqlite. */
  databaseUrl: string | undefined;
  /** `ADMIN_PASSWORD`: enables /admin behind HTTP Basic auth. Without it, admin is disabled. */
  adminPassword: string | undefined;
}

/** The repository's var/ folder, wherever `npm start` is run from. */
const DEFAULT_VAR_DIR = fileURLToPath(new URL('../../var', import.meta.url));

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be a port number from 0 to 65535, not ${env.PORT}`);
  }
  const varDir = resolve(nonEmpty(env.VAR_DIR) ?? DEFAULT_VAR_DIR);
  return {
    port,
    varDir,
    storeUrl: nonEmpty(env.IMAGEATTACH_STORE) ?? pathToFileURL(resolve(varDir, 'images')).href,
    databaseUrl: nonEmpty(env.DATABASE_URL),
    adminPassword: nonEmpty(env.ADMIN_PASSWORD),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
