/**
 * The databases the model tests run against: SQLite always, PostgreSQL when DATABASE_URL is
 * set. Each PostgreSQL connection gets a schema of its own (via `search_path`), so test files
 * running in parallel never see each other's tables; `close()` drops it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Sequelize } from 'sequelize';
import { makeTempDir } from './temp-dir.js';

export interface TestDatabase {
  readonly sequelize: Sequelize;
  readonly dialect: 'sqlite' | 'postgres';
  /** The PostgreSQL schema of this connection (`search_path`); undefined for SQLite. */
  readonly schema?: string;
  /** Closes the connections and removes the schema or the SQLite file. */
  close(): Promise<void>;
}

export interface DatabaseKind {
  readonly name: 'sqlite' | 'postgres';
  open(): Promise<TestDatabase>;
}

/** SQLite in a temporary file: separate transactions get separate connections, as in PG. */
async function openSqlite(): Promise<TestDatabase> {
  const dir = await makeTempDir('imageattach-sqlite');
  const sequelize = new Sequelize({
    dialect: 'sqlite',
    storage: join(dir.path, 'test.sqlite'),
    logging: false,
    // A second writer waits for the first one's commit instead of failing at once.
    retry: { max: 50, match: [/SQLITE_BUSY/] },
  });
  return {
    sequelize,
    dialect: 'sqlite',
    close: async () => {
      await sequelize.close();
      await dir.remove();
    },
  };
}

async function openPostgres(url: string): Promise<TestDatabase> {
  const schema = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Sequelize(url, { logging: false });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const sequelize = new Sequelize(url, {
    logging: false,
    dialectOptions: { options: `-c search_path=${schema}` },
    pool: { max: 5 },
  });
  return {
    sequelize,
    dialect: 'postgres',
    schema,
    close: async () => {
      await sequelize.close();
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.close();
    },
  };
}

/** SQLite, and PostgreSQL when DATABASE_URL is set. */
export function databaseKinds(): DatabaseKind[] {
  const kinds: DatabaseKind[] = [{ name: 'sqlite', open: openSqlite }];
  const url = process.env.DATABASE_URL;
  if (url) kinds.push({ name: 'postgres', open: () => openPostgres(url) });
  return kinds;
}
