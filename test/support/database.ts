/**
 * The databases the model tests run against: SQLite always, PostgreSQL when DATABASE_URL is
 * set, MySQL/MariaDB when MYSQL_URL is set. Each test file gets a PostgreSQL (or MySQL)
 * database of its own, created on the server of DATABASE_URL (MYSQL_URL) and dropped by
 * `close()`. (Not a schema: Sequelize 6's catalog queries behind
 * `sync()` look tables up by name in every schema, so parallel files would trip over each
 * other's tables.)
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Sequelize } from 'sequelize';
import { makeTempDir } from './temp-dir.js';

export interface TestDatabase {
  readonly sequelize: Sequelize;
  readonly dialect: 'sqlite' | 'postgres' | 'mysql';
  /** Empties the database and creates the tables of every model defined so far. */
  reset(): Promise<void>;
  /** Closes the connections and removes the schema or the SQLite file. */
  close(): Promise<void>;
}

export interface DatabaseKind {
  readonly name: 'sqlite' | 'postgres' | 'mysql';
  open(): Promise<TestDatabase>;
}

/** SQLite in a temporary file: separate transactions get separate connections, as in PG. */
async function openSqlite(): Promise<TestDatabase> {
  const dir = await makeTempDir('imageattach-sqlite');
  const sequelize = new Sequelize({
    dialect: 'sqlite',
    storage: join(dir.path, 'test.sqlite'),
    logging: false,
  });
  return {
    sequelize,
    dialect: 'sqlite',
    reset: async () => {
      await sequelize.sync({ force: true });
    },
    close: async () => {
      await sequelize.close();
      await dir.remove();
    },
  };
}

async function openPostgres(url: string): Promise<TestDatabase> {
  const name = `imageattach_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Sequelize(url, { logging: false });
  await admin.query(`CREATE DATABASE "${name}"`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const sequelize = new Sequelize(own.toString(), { logging: false, pool: { max: 5 } });
  return {
    sequelize,
    dialect: 'postgres',
    reset: async () => {
      await sequelize.sync({ force: true });
    },
    close: async () => {
      await sequelize.close();
      await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.close();
    },
  };
}

async function openMysql(url: string): Promise<TestDatabase> {
  const name = `imageattach_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Sequelize(url, { logging: false });
  await admin.query(`CREATE DATABASE \`${name}\``);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const sequelize = new Sequelize(own.toString(), { logging: false, pool: { max: 5 } });
  return {
    sequelize,
    dialect: 'mysql',
    reset: async () => {
      await sequelize.sync({ force: true });
    },
    close: async () => {
      await sequelize.close();
      await admin.query(`DROP DATABASE \`${name}\``);
      await admin.close();
    },
  };
}

/** SQLite, PostgreSQL when DATABASE_URL is set, and MySQL/MariaDB when MYSQL_URL is set. */
export function databaseKinds(): DatabaseKind[] {
  const kinds: DatabaseKind[] = [{ name: 'sqlite', open: openSqlite }];
  const url = process.env.DATABASE_URL;
  if (url) kinds.push({ name: 'postgres', open: () => openPostgres(url) });
  const mysqlUrl = process.env.MYSQL_URL;
  if (mysqlUrl) kinds.push({ name: 'mysql', open: () => openMysql(mysqlUrl) });
  return kinds;
}
