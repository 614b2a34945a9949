/**
 * The databases of the tests that SIGKILL a child mid-work (crash.test.ts, same-second.test.ts):
 * each run gets a schema or database of its own, named in the child's environment as
 * `<PREFIX>_SQLITE`, `<PREFIX>_PG_URL` + `<PREFIX>_PG_SCHEMA` or `<PREFIX>_MYSQL_URL`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Sequelize } from 'sequelize';

export interface KilledDatabase {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly sequelize: Sequelize;
  /**
   * Resolves once the killed child's work has ended on the server too. PostgreSQL or MariaDB
   * may still be running a COMMIT the child sent just before it died: until that session
   * ends, the database can change under the checker.
   */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface KilledDatabaseKind {
  readonly name: string;
  open(dir: string): Promise<KilledDatabase>;
}

/** SQLite always; PostgreSQL and MariaDB when DATABASE_URL and MYSQL_URL are set. */
export function killedDatabaseKinds(label: string, envPrefix: string): KilledDatabaseKind[] {
  const unique = () => `${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  return [
    { name: 'sqlite', open: (dir) => sqlite(join(dir, `${label}.sqlite`), envPrefix) },
    ...(process.env.DATABASE_URL
      ? [{ name: 'postgres', open: () => postgres(process.env.DATABASE_URL!, unique(), envPrefix) }]
      : []),
    ...(process.env.MYSQL_URL
      ? [{ name: 'mysql', open: () => mysql(process.env.MYSQL_URL!, unique(), envPrefix) }]
      : []),
  ];
}

function sqlite(storage: string, prefix: string): Promise<KilledDatabase> {
  const sequelize = new Sequelize({ dialect: 'sqlite', storage, logging: false });
  return Promise.resolve({
    name: 'sqlite',
    env: { [`${prefix}_SQLITE`]: storage },
    sequelize,
    settled: () => Promise.resolve(),
    close: () => sequelize.close(),
  });
}

async function postgres(url: string, schema: string, prefix: string): Promise<KilledDatabase> {
  const admin = new Sequelize(url, { logging: false });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const sequelize = new Sequelize(url, {
    logging: false,
    dialectOptions: { options: `-c search_path=${schema}` },
  });
  return {
    name: 'postgres',
    env: { [`${prefix}_PG_URL`]: url, [`${prefix}_PG_SCHEMA`]: schema },
    sequelize,
    // The child names its sessions after the schema (application_name).
    settled: () =>
      untilNone(
        admin,
        `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = '${schema}'`,
      ),
    close: async () => {
      await sequelize.close();
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.close();
    },
  };
}

/**
 * A database of its own. The checker's pool shares it with the worker's, so settled() waits
 * until no session on it but idle ones and its own is running a statement; the idle sessions
 * of the dead worker change nothing.
 */
async function mysql(url: string, name: string, prefix: string): Promise<KilledDatabase> {
  const admin = new Sequelize(url, { logging: false });
  await admin.query(`CREATE DATABASE \`${name}\``);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const sequelize = new Sequelize(own.toString(), { logging: false });
  return {
    name: 'mysql',
    env: { [`${prefix}_MYSQL_URL`]: own.toString() },
    sequelize,
    settled: () =>
      untilNone(
        sequelize,
        'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST ' +
          "WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'",
      ),
    close: async () => {
      await sequelize.close();
      await admin.query(`DROP DATABASE \`${name}\``);
      await admin.close();
    },
  };
}

/** Polls `sql` (a count `n`) until it is 0, for at most 10 s. */
async function untilNone(sequelize: Sequelize, sql: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const [rows] = await sequelize.query(sql);
    if (Number((rows as { n: number | string }[])[0]?.n) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the killed worker's database sessions did not end within 10 s");
}
