/**
 * The `user_picture` table of the test models as SQLAlchemy-ImageAttach's schema has it:
 * `created_at` keeps whole seconds. On PostgreSQL the column is `timestamp(0) with time zone`
 * (the server rounds every value to the second). On SQLite it is a `DATETIME` defaulting to
 * `CURRENT_TIMESTAMP`, which writes `YYYY-MM-DD HH:MM:SS`; Sequelize writes milliseconds, so an
 * insert trigger cuts what it writes to the same whole seconds, as MySQL's and MariaDB's
 * `DATETIME` do. On MySQL and MariaDB it is that plain `DATETIME` (no fraction) with
 * `CURRENT_TIMESTAMP` as default, in InnoDB. No column is added: the library's staged-file journal is a table of its own.
 */
import type { Sequelize } from 'sequelize';

/** Replaces `user_picture` (after `sync()`, or none yet) with the original's table. */
export async function useOriginalPictureTable(sequelize: Sequelize): Promise<void> {
  await sequelize.query('DROP TABLE IF EXISTS user_picture');
  if (sequelize.getDialect() === 'postgres') {
    await sequelize.query(`CREATE TABLE user_picture (
      "userId" integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      width integer NOT NULL,
      height integer NOT NULL,
      mimetype varchar(255) NOT NULL,
      original boolean NOT NULL,
      created_at timestamp(0) with time zone NOT NULL DEFAULT now(),
      PRIMARY KEY ("userId", width, height))`);
    return;
  }
  if (sequelize.getDialect() === 'mysql' || sequelize.getDialect() === 'mariadb') {
    await sequelize.query(`CREATE TABLE user_picture (
      userId integer NOT NULL,
      width integer NOT NULL,
      height integer NOT NULL,
      mimetype varchar(255) NOT NULL,
      original boolean NOT NULL,
      created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
      PRIMARY KEY (userId, width, height),
      FOREIGN KEY (userId) REFERENCES users (id) ON DELETE CASCADE) ENGINE=InnoDB`);
    return;
  }
  await sequelize.query(`CREATE TABLE user_picture (
    "userId" INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    mimetype VARCHAR(255) NOT NULL,
    original BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY ("userId", width, height))`);
  await sequelize.query(`CREATE TRIGGER user_picture_whole_seconds AFTER INSERT ON user_picture
    BEGIN
      UPDATE user_picture SET created_at = substr(NEW.created_at, 1, 19) WHERE rowid = NEW.rowid;
    END`);
}

/** The `created_at` values of a user's rows as the database holds them, in text. */
export async function storedCreatedAt(sequelize: Sequelize, userId: number): Promise<string[]> {
  const [rows] = await sequelize.query(
    sequelize.getDialect() === 'postgres'
      ? `SELECT created_at::text AS t FROM user_picture WHERE "userId" = ${Number(userId)}`
      : sequelize.getDialect() === 'mysql'
        ? `SELECT CAST(created_at AS CHAR) AS t FROM user_picture WHERE userId = ${Number(userId)}`
        : `SELECT created_at AS t FROM user_picture WHERE "userId" = ${Number(userId)}`,
  );
  return (rows as { t: string }[]).map((row) => row.t);
}

/**
 * Moves a user's rows an hour ahead, to a whole second: a replacement is dated a millisecond
 * after its predecessor when the clock has not passed it (see `ImageSet#insert`), so the
 * replacements that follow all fall in that one second however slow the machine is, as two
 * replacements within one second of the database's clock would.
 */
export async function dateAhead(sequelize: Sequelize, userId: number): Promise<void> {
  const id = Number(userId);
  const dialect = sequelize.getDialect();
  await sequelize.query(
    dialect === 'postgres'
      ? `UPDATE user_picture SET created_at = created_at + interval '1 hour' WHERE "userId" = ${id}`
      : dialect === 'mysql' || dialect === 'mariadb'
        ? `UPDATE user_picture SET created_at = created_at + INTERVAL 1 HOUR WHERE userId = ${id}`
        : `UPDATE user_picture SET created_at = datetime(created_at, '+1 hour') WHERE "userId" = ${id}`,
  );
}
