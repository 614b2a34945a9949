/**
 * What a command touches, in words: the store's folder or bucket and prefix, and the database,
 * printed before it touches anything; and each image it reports on.
 */
import type { Sequelize } from 'sequelize';
import { describeKey, type ImageKey } from '../stores/keys.js';

export { describeStore } from '../stores/describe-store.js';

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

/** `user/1/100x80 image/jpeg (thumbnail)`: an image of a report, by its key and its role. */
export function describeImage(image: ImageKey & { original: boolean }): string {
  return `${describeKey(image)} (${image.original ? 'original' : 'thumbnail'})`;
}
