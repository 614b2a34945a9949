/**
 * A database and a file-system store in SQLAlchemy-ImageAttach's format: the README's worked
 * model reads the original's rows and files (its `_ts=` exactly), writes new ones into its
 * table and layout, and SQLAlchemy itself reads our rows back with the same `_ts=`.
 *
 * The SQLite fixture is `test/fixtures/sqlalchemy-imageattach/user-picture.sqlite.sql`, made by
 * SQLAlchemy 1.4 (`original.py dump`): its DDL and rows as SQLAlchemy writes them, `created_at`
 * in whole seconds (SQLite's CURRENT_TIMESTAMP) but one row an application dated itself. On
 * PostgreSQL (DATABASE_URL) SQLAlchemy creates the tables and rows itself (`original.py create`).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { DataTypes, Model, QueryTypes, Sequelize, type NonAttribute } from 'sequelize';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  FileSystemStore,
  Image,
  imageAttachment,
  imageAttributes,
  type SingleImageSet,
} from '../../src/index.js';
import { codeBetween, readmeBlockWith } from '../docs/readme-blocks.js';
import { makeTempDir } from '../support/temp-dir.js';

const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '../fixtures/sqlalchemy-imageattach',
);
const ORIGINAL_PY = join(FIXTURES, 'original.py');
const INSTALL = 'apt-get install -y python3-sqlalchemy python3-psycopg2';
const BASE_URL = 'http://img.test/';
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': '.jpe',
  'image/png': '.png',
  'image/gif': '.gif',
};

/** A Python 3 that imports SQLAlchemy (and psycopg2 for PostgreSQL), or `undefined`. */
function findPython(modules: string): string | undefined {
  // Debian's python3-sqlalchemy is for /usr/bin/python3, which a pyenv shim may hide.
  const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'];
  return candidates.find(
    (python) =>
      python !== undefined &&
      spawnSync(python, ['-c', `import ${modules}`], { stdio: 'ignore' }).status === 0,
  );
}

interface PythonRow {
  userId: number;
  width: number;
  height: number;
  mimetype: string;
  original: boolean;
  ts: string;
}

/** What SQLAlchemy reads: every user_picture row with the original's `_ts`. */
function readWithSqlalchemy(python: string, url: string): PythonRow[] {
  const result = spawnSync(python, [ORIGINAL_PY, 'read', url], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`original.py read failed: ${result.stderr}`);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as PythonRow);
}

/**
 * The worked model of README's "Coming from SQLAlchemy-ImageAttach", as written there (a test
 * below checks that the two agree).
 */
function defineModels(sequelize: Sequelize) {
  class User extends Model {
    declare id: number;
    declare name: string;
    declare readonly picture: NonAttribute<SingleImageSet<UserPicture>>;
  }
  User.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true },
      name: { type: DataTypes.STRING, allowNull: false },
    },
    { sequelize, tableName: 'user', timestamps: false }, // no createdAt/updatedAt columns there
  );
  class UserPicture extends Image {
    declare userId: number;
  }
  UserPicture.init(
    { userId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'user_picture', underscored: true }, // userId is the column user_id
  );
  imageAttachment(User, 'picture', UserPicture, { foreignKey: 'userId' });
  return { User, UserPicture };
}

/** `_ts=` of a URL. */
function tsOf(url: string): string | null {
  return new URL(url).searchParams.get('_ts');
}

/** An image of the given size and type, as bytes. */
function makeImage(width: number, height: number, mimetype: string): Promise<Buffer> {
  const image = sharp({
    create: { width, height, channels: 3, background: { r: width % 256, g: height % 256, b: 90 } },
  });
  const format = ({ 'image/jpeg': 'jpeg', 'image/png': 'png', 'image/gif': 'gif' } as const)[
    mimetype as 'image/jpeg'
  ];
  return image.toFormat(format).toBuffer();
}

/** The original's file-system layout: `type/(id mod 1000)/(id div 1000)/id.WxH.ext`. */
function originalPath(root: string, id: number, width: number, height: number, mimetype: string) {
  const name = `${id}.${width}x${height}${EXTENSIONS[mimetype]}`;
  return join(root, 'user-picture', String(id % 1000), String(Math.floor(id / 1000)), name);
}

interface OriginalDatabase {
  readonly sequelize: Sequelize;
  /** The URL SQLAlchemy connects with. */
  readonly sqlalchemyUrl: string;
  close(): Promise<void>;
}

interface Kind {
  readonly name: string;
  /** Why the kind cannot run here, with what to install. */
  readonly skip?: string;
  /** The original's tables and rows, as SQLAlchemy wrote them. */
  open(dir: string): Promise<OriginalDatabase>;
}

async function openSqlite(dir: string): Promise<OriginalDatabase> {
  const file = join(dir, 'original.sqlite');
  const sql = await readFile(join(FIXTURES, 'user-picture.sqlite.sql'), 'utf8');
  const db = new sqlite3.Database(file);
  await new Promise<void>((resolve, reject) =>
    db.exec(sql, (error) => (error ? reject(error) : resolve())),
  );
  await new Promise<void>((resolve, reject) =>
    db.close((error) => (error ? reject(error) : resolve())),
  );
  const sequelize = new Sequelize({ dialect: 'sqlite', storage: file, logging: false });
  return { sequelize, sqlalchemyUrl: `sqlite:///${file}`, close: () => sequelize.close() };
}

function postgresKind(url: string, python: string | undefined): Kind {
  // SQLAlchemy writes the original's tables and rows here: without it, nothing to read.
  const skip =
    python === undefined ? `needs SQLAlchemy and psycopg2 for python3: ${INSTALL}` : undefined;
  return {
    name: 'postgres',
    skip,
    async open() {
      const name = `imageattach_original_${process.pid}_${randomBytes(4).toString('hex')}`;
      const admin = new Sequelize(url, { logging: false });
      await admin.query(`CREATE DATABASE "${name}"`);
      const own = new URL(url);
      own.pathname = `/${name}`;
      const sqlalchemyUrl = own.toString().replace(/^postgres(ql)?:/, 'postgresql:');
      const created = spawnSync(python!, [ORIGINAL_PY, 'create', sqlalchemyUrl], {
        encoding: 'utf8',
      });
      if (created.status !== 0) throw new Error(`original.py create failed: ${created.stderr}`);
      const sequelize = new Sequelize(own.toString(), { logging: false });
      return {
        sequelize,
        sqlalchemyUrl,
        close: async () => {
          await sequelize.close();
          await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
          await admin.close();
        },
      };
    },
  };
}

const sqlitePython = findPython('sqlalchemy');
const kinds: Kind[] = [{ name: 'sqlite', open: openSqlite }];
if (process.env.DATABASE_URL) {
  const postgres = postgresKind(process.env.DATABASE_URL, findPython('sqlalchemy, psycopg2'));
  // SQLAlchemy writes the original's tables there: without it (and psycopg2) there is nothing
  // to read. .ci/run installs both, so CI always runs this kind.
  if (postgres.skip === undefined) kinds.push(postgres);
  else console.warn(`PostgreSQL: the original-data tests do not run; ${postgres.skip}`);
}
if (sqlitePython === undefined) {
  console.warn(`SQLAlchemy is not installed: its read-back tests are skipped. ${INSTALL}`);
}

test("defineModels is the README's worked model, statement for statement", async () => {
  const root = join(FIXTURES, '../../..');
  const readme = (await readmeBlockWith(root, "tableName: 'user_picture', underscored: true")).code;
  const own = await readFile(fileURLToPath(import.meta.url), 'utf8');
  const copy = own.slice(own.indexOf('function defineModels('));
  expect(codeBetween(copy, 'class User', 'return {')).toBe(codeBetween(readme, 'class User'));
});

describe.each(kinds)('SQLAlchemy-ImageAttach data on $name', (kind) => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let db: OriginalDatabase;
  let store: FileSystemStore;
  let models: ReturnType<typeof defineModels>;
  /** The images the second test writes, for SQLAlchemy to read back. */
  let written: InstanceType<ReturnType<typeof defineModels>['UserPicture']>[] = [];
  /** The original's rows, as text: `created_at` exactly as stored. */
  let fixtureRows: Array<{
    user_id: number;
    width: number;
    height: number;
    mimetype: string;
    created_at: string;
  }>;

  beforeAll(async () => {
    dir = await makeTempDir('imageattach-original');
    db = await kind.open(dir.path);
    models = defineModels(db.sequelize);
    store = new FileSystemStore({ path: join(dir.path, 'images'), baseUrl: BASE_URL });
    fixtureRows = await db.sequelize.query(
      'SELECT user_id, width, height, mimetype, CAST(created_at AS TEXT) AS created_at ' +
        'FROM user_picture ORDER BY user_id, width',
      { type: QueryTypes.SELECT },
    );
    // The files the original stored, in its layout.
    for (const row of fixtureRows) {
      const path = originalPath(store.path, row.user_id, row.width, row.height, row.mimetype);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await makeImage(row.width, row.height, row.mimetype));
    }
  });

  afterAll(async () => {
    await db?.close();
    await dir?.remove();
  });

  test("the original's rows and files read as the original reads them", async () => {
    expect(fixtureRows).toHaveLength(5);
    for (const row of fixtureRows) {
      const user = await models.User.findByPk(row.user_id, { rejectOnEmpty: true });
      const image = await user.picture.findThumbnail({ width: row.width }, { store });
      expect([image.width, image.height, image.mimetype]).toEqual([
        row.width,
        row.height,
        row.mimetype,
      ]);
      // strftime('%Y%m%d%H%M%S%f') of the stored time: every digit, microseconds padded.
      const digits = row.created_at.replace(/[+-]\d\d(:\d\d)?$/, '').replace(/\D/g, '');
      const expected = digits.padEnd(20, '0');
      const path = originalPath('', row.user_id, row.width, row.height, row.mimetype);
      expect(image.locate({ store })).toBe(`${BASE_URL}${path}?_ts=${expected}`);
      expect(await image.makeBlob({ store })).toEqual(await readFile(join(store.path, path)));
    }
    // The row an application dated itself keeps its microseconds.
    const carol = await models.User.findByPk(1234, { rejectOnEmpty: true });
    const thumbnail = await carol.picture.findThumbnail({ width: 32 }, { store });
    expect(tsOf(thumbnail.locate({ store }))).toBe('20171010123456789012');
    expect(thumbnail.createdAtMicroseconds).toBe(789012);
  });

  test('new images go into its table and layout', async () => {
    const dave = await models.User.findByPk(3, { rejectOnEmpty: true });
    const bytes = await makeImage(120, 90, 'image/jpeg');
    const [original, thumbnail] = await db.sequelize.transaction(async (transaction) => [
      await dave.picture.fromFile(bytes, { store, transaction }),
      await dave.picture.generateThumbnail({ width: 60 }, { store, transaction }),
    ]);
    // A thumbnail of a file the original stored, read through the store.
    const carol = await models.User.findByPk(1234, { rejectOnEmpty: true });
    const carolThumbnail = await carol.picture.generateThumbnail({ width: 16 }, { store });
    written = [original, thumbnail, carolThumbnail];
    for (const image of written) {
      const path = originalPath(
        store.path,
        image.userId,
        image.width,
        image.height,
        image.mimetype,
      );
      expect((await stat(path)).isFile()).toBe(true);
    }
    expect(await readFile(originalPath(store.path, 3, 120, 90, 'image/jpeg'))).toEqual(bytes);
    if (kind.name === 'sqlite') {
      // SQLAlchemy's own text: UTC, six fraction digits, no offset.
      const rows = await db.sequelize.query<{ created_at: string }>(
        'SELECT created_at FROM user_picture WHERE user_id = 3',
        { type: QueryTypes.SELECT },
      );
      for (const row of rows) {
        expect(row.created_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      }
    }
    // What we remembered at insert is what we read back.
    for (const image of written) {
      const user = await models.User.findByPk(image.userId, { rejectOnEmpty: true });
      const read = await user.picture.findThumbnail({ width: image.width }, { store });
      expect(read.locate({ store })).toBe(image.locate({ store }));
    }
  });

  const python = kind.name === 'sqlite' ? sqlitePython : findPython('sqlalchemy, psycopg2');
  test.skipIf(python === undefined)(
    `SQLAlchemy reads our rows back with the same _ts (needs: ${INSTALL})`,
    async () => {
      expect(written).toHaveLength(3);
      const pythonRows = readWithSqlalchemy(python!, db.sqlalchemyUrl);
      expect(pythonRows).toHaveLength(fixtureRows.length + 3);
      for (const row of pythonRows) {
        const user = await models.User.findByPk(row.userId, { rejectOnEmpty: true });
        const ours = await user.picture.findThumbnail({ width: row.width }, { store });
        expect([ours.height, ours.mimetype, ours.original]).toEqual([
          row.height,
          row.mimetype,
          row.original,
        ]);
        expect(tsOf(ours.locate({ store }))).toBe(row.ts);
      }
      // Our new rows, as the original computes their `_ts`, and as we did when writing them.
      for (const image of written) {
        const row = pythonRows.find(
          (candidate) => candidate.userId === image.userId && candidate.width === image.width,
        );
        expect(row?.ts).toBe(tsOf(image.locate({ store })));
        expect(row?.ts.slice(14)).toBe(String(image.createdAtMicroseconds).padStart(6, '0'));
      }
    },
  );
});
