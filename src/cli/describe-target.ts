/**
 * What a command will touch, in words, printed before it touches anything: the store's folder
 * or bucket and prefix, and the database.
 */
import type { Sequelize } from 'sequelize';
import { BaseFileSystemStore } from '../stores/fs.js';
import type { Store } from '../stores/store.js';

/** `the folder /var/images`, `the bucket images, prefix prod/ (endpoint http://…)`, … */
export function describeStore(store: Store): string {
  if (store instanceof BaseFileSystemStore) return `the folder ${store.path}`;
  // Duck-typed: importing the S3 stores here would load the AWS SDK for every command.
  const s3 = store as Store & { bucket?: unknown; prefix?: unknown; client?: unknown };
  if (typeof s3.bucket === 'string') {
    const prefix =
      typeof s3.prefix === 'string' && s3.prefix !== '' ? `, prefix ${s3.prefix}/` : '';
    return `the S3 bucket ${s3.bucket}${prefix}`;
  }
  const sandbox = store as Store & { overriding?: Store; underlying?: Store };
  if (sandbox.overriding !== undefined && sandbox.underlying !== undefined) {
    return `${describeStore(sandbox.overriding)} over ${describeStore(sandbox.underlying)}`;
  }
  return `a ${store.constructor.name}`;
}

/** `the sqlite database /app/var/app.sqlite`, `the postgres database app on db.internal:5432`. */
export function describeDatabase(sequelize: Sequelize): string {
  const dialect = sequelize.getDialect();
  // Sequelize's types leave `options` out; it is there at run time.
  const { options } = sequelize as unknown as { options: { storage?: string } };
  if (dialect === 'sqlite') return `the sqlite database ${options.storage ?? ':memory:'}`;
  const { database, host, port } = sequelize.config;
  const at = host === undefined ? '' : ` on ${host}${port === undefined ? '' : `:${port}`}`;
  return `the ${dialect} database ${database}${at}`;
}
