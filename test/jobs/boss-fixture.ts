/**
 * pg-boss on a test's own PostgreSQL database: the connection string of its Sequelize, with
 * pg-boss's own schema there, started with short intervals.
 */
import PgBoss from 'pg-boss';
import type { Sequelize } from 'sequelize';

/** The URL a Sequelize connects to, for pg-boss and for child processes. */
export function urlOf(sequelize: Sequelize): string {
  const { host, port, database, username, password } = sequelize.config;
  const url = new URL('postgres://localhost');
  url.hostname = host ?? '127.0.0.1';
  if (port) url.port = String(port);
  url.pathname = `/${database}`;
  url.username = encodeURIComponent(username);
  if (password) url.password = encodeURIComponent(password);
  return url.toString();
}

export function testBoss(sequelize: Sequelize, options: PgBoss.ConstructorOptions = {}): PgBoss {
  const boss = new PgBoss({
    connectionString: urlOf(sequelize),
    max: 3,
    supervise: false,
    schedule: false,
    ...options,
  });
  // An unhandled 'error' event would end the test process.
  boss.on('error', (error) => console.error('pg-boss:', error));
  return boss;
}
