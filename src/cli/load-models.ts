/**
 * Loads the application's models module and finds its Sequelize instance.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Sequelize } from 'sequelize';
import { UsageError } from './args.js';

/**
 * Imports `specifier` (a path from the working folder, or a package name) and returns the
 * Sequelize instance it exports as `sequelize` or as its default export, or that a function
 * exported under those names returns when called with the database URL.
 */
export async function loadSequelize(
  specifier: string,
  databaseUrl: string | undefined,
): Promise<Sequelize> {
  // Set first: modules commonly read it while loading.
  if (databaseUrl !== undefined) process.env.DATABASE_URL = databaseUrl;
  const path = resolve(specifier);
  const target = existsSync(path) ? pathToFileURL(path).href : specifier;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(target)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--models ${specifier} could not be loaded: ${(error as Error).message}`);
  }
  for (const name of ['sequelize', 'default']) {
    let value = loaded[name];
    if (typeof value === 'function' && !isSequelize(value)) {
      value = await (value as (url: string | undefined) => unknown)(databaseUrl);
    }
    if (isSequelize(value)) return value;
  }
  throw new UsageError(
    `--models ${specifier} exports no Sequelize instance; export it as \`sequelize\` or as the ` +
      'default export (or a function returning it), with the image models defined on it.',
  );
}

/** Duck-typed, so that an application with its own copy of sequelize is recognised. */
function isSequelize(value: unknown): value is Sequelize {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Sequelize).getDialect === 'function' &&
    typeof (value as Sequelize).models === 'object'
  );
}
