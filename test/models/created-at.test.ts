/**
 * created_at to the microsecond: the text forms read and written, the process clock, and, on
 * each database, new rows dated by the database's clock and read back with their
 * microseconds by every kind of find.
 */
import sharp from 'sharp';
import { DataTypes, Model, QueryTypes, type NonAttribute, type Sequelize } from 'sequelize';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  FileSystemStore,
  Image,
  imageAttachment,
  imageAttributes,
  type SingleImageSet,
} from '../../src/index.js';
import { cacheBuster } from '../../src/stores/store.js';
import {
  clockMicroseconds,
  formatTimestamp,
  fromEpochMicroseconds,
  microsecondsOf,
  parseTimestamp,
  rememberMicroseconds,
  toEpochMicroseconds,
} from '../../src/models/precise-time.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';

const CREATED = new Date('2017-10-10T12:34:56.789Z');

describe('parseTimestamp', () => {
  test.each([
    ['2017-10-10 12:34:56', '2017-10-10T12:34:56.000Z', 0], // SQLite CURRENT_TIMESTAMP
    ['2017-10-10 12:34:56.789012', '2017-10-10T12:34:56.789Z', 789012], // SQLAlchemy
    ['2017-10-10 12:34:56.781 +00:00', '2017-10-10T12:34:56.781Z', 781000], // Sequelize
    ['2017-10-10 12:34:56.1234+00', '2017-10-10T12:34:56.123Z', 123400], // PostgreSQL
    ['2017-10-10 12:34:56+00', '2017-10-10T12:34:56.000Z', 0],
    ['2017-10-10 21:34:56.789012+09', '2017-10-10T12:34:56.789Z', 789012],
    ['2017-10-10 07:04:56.5-05:30', '2017-10-10T12:34:56.500Z', 500000],
    ['2017-10-10T12:34:56.789Z', '2017-10-10T12:34:56.789Z', 789000], // ISO 8601
    ['2017-10-10 12:34:56.7890129', '2017-10-10T12:34:56.789Z', 789012], // truncated
  ])('%s', (text, iso, microseconds) => {
    const time = parseTimestamp(text);
    expect(time?.date.toISOString()).toBe(iso);
    expect(time?.microseconds).toBe(microseconds);
  });

  test.each(['', 'yesterday', '2017-10-10', '2017-13-10 00:00:00', '2017-10-10 12:34:56 +0x'])(
    'not a timestamp: %j',
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
    },
  );
});

describe('formatTimestamp and epoch microseconds', () => {
  test("SQLAlchemy's SQLite form: UTC, six digits, no offset", () => {
    expect(formatTimestamp({ date: CREATED, microseconds: 789012 })).toBe(
      '2017-10-10 12:34:56.789012',
    );
    expect(formatTimestamp({ date: new Date('2001-01-02T03:04:05Z'), microseconds: 7 })).toBe(
      '2001-01-02 03:04:05.000007',
    );
  });

  test('round trip through microseconds since the epoch, before 1970 too', () => {
    for (const value of [1507638896789012n, 0n, 999n, -1n, -1507638896789012n]) {
      const time = fromEpochMicroseconds(value);
      expect(Math.floor(time.microseconds / 1000)).toBe(time.date.getUTCMilliseconds());
      expect(toEpochMicroseconds(time)).toBe(value);
    }
    expect(formatTimestamp(fromEpochMicroseconds(1507638896789012n))).toBe(
      '2017-10-10 12:34:56.789012',
    );
  });
});

describe('clockMicroseconds', () => {
  test('strictly increasing, and the wall clock to the millisecond', () => {
    let last = clockMicroseconds();
    for (let i = 0; i < 1000; i++) {
      const next = clockMicroseconds();
      expect(next > last).toBe(true);
      last = next;
    }
    // Generous: the two reads may be apart on a loaded machine.
    expect(Math.abs(Number(clockMicroseconds() / 1000n) - Date.now())).toBeLessThan(50);
  });
});

describe('microsecondsOf', () => {
  test('remembered for the very Date, else its milliseconds', () => {
    const date = rememberMicroseconds({ date: new Date(CREATED), microseconds: 789012 });
    expect(microsecondsOf(date)).toBe(789012);
    expect(microsecondsOf(new Date(CREATED))).toBe(789000);
    date.setTime(date.getTime() + 1); // changed in place: the microseconds are no longer its
    expect(microsecondsOf(date)).toBe(790000);
  });
});

describe('cacheBuster and Store#locate with microseconds', () => {
  test('the microseconds given, else the milliseconds padded', () => {
    expect(cacheBuster(CREATED, 789012)).toBe('20171010123456789012');
    expect(cacheBuster(CREATED, 789000)).toBe('20171010123456789000');
    expect(cacheBuster(CREATED)).toBe('20171010123456789000');
    for (const wrong of [-1, 1_000_000, 1.5]) {
      expect(() => cacheBuster(CREATED, wrong)).toThrow(RangeError);
    }
  });

  test('createdAtMicroseconds must belong to createdAt', async () => {
    const dir = await makeTempDir('imageattach-created-at');
    try {
      const store = new FileSystemStore({ path: dir.path, baseUrl: 'http://img.test/' });
      const image = {
        objectType: 'user',
        objectId: 1234n,
        width: 100,
        height: 80,
        mimetype: 'image/jpeg',
        original: true,
        createdAt: CREATED,
      };
      expect(store.locate({ ...image, createdAtMicroseconds: 789012 })).toBe(
        'http://img.test/user/234/1/1234.100x80.jpe?_ts=20171010123456789012',
      );
      for (const wrong of [788999, 790000, 789012.5, Number.NaN]) {
        expect(() => store.locate({ ...image, createdAtMicroseconds: wrong })).toThrow(TypeError);
      }
    } finally {
      await dir.remove();
    }
  });
});

function defineModels(sequelize: Sequelize) {
  class Owner extends Model {
    declare id: number;
    declare readonly picture: NonAttribute<SingleImageSet<OwnerPicture>>;
  }
  Owner.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'owner', timestamps: false },
  );
  class OwnerPicture extends Image {
    declare ownerId: number;
  }
  OwnerPicture.init(
    { ownerId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'owner_picture' },
  );
  imageAttachment(Owner, 'picture', OwnerPicture, { foreignKey: 'ownerId', as: 'pictures' });
  return { Owner, OwnerPicture };
}

describe.each(databaseKinds())('created_at on $name', (kind) => {
  let db: TestDatabase;
  let models: ReturnType<typeof defineModels>;
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  let store: FileSystemStore;
  let png: Buffer;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
    dir = await makeTempDir('imageattach-created-at');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://img.test/' });
    png = await sharp({ create: { width: 8, height: 6, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
  });
  beforeEach(() => db.reset());
  afterAll(async () => {
    await db?.close();
    await dir?.remove();
  });

  /** `ownerId` quoted for the dialect (MySQL quotes names with backticks). */
  const ownerIdColumn = kind.name === 'mysql' ? '`ownerId`' : '"ownerId"';

  /** The column as the database holds it, as text. */
  async function storedText(ownerId: number, width: number): Promise<string> {
    const text =
      kind.name === 'mysql'
        ? "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f')" // the session's time zone is UTC
        : 'CAST(created_at AS TEXT)';
    const [row] = await db.sequelize.query<{ text: string }>(
      `SELECT ${text} AS text FROM owner_picture WHERE ${ownerIdColumn} = ? AND width = ?`,
      { type: QueryTypes.SELECT, replacements: [ownerId, width] },
    );
    return row!.text;
  }

  test('a new row is dated by the database with microseconds, and stored whole', async () => {
    const owner = await models.Owner.create();
    const image = await owner.picture.fromBlob(png, { store });
    const text = await storedText(owner.id, 8);
    const stored = parseTimestamp(text)!;
    expect(image.createdAt).toBeInstanceOf(Date);
    expect(image.createdAt.getTime()).toBe(stored.date.getTime());
    expect(image.createdAtMicroseconds).toBe(stored.microseconds);
    if (kind.name === 'sqlite') expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    const ts = new URL(image.locate({ store })).searchParams.get('_ts');
    expect(ts).toBe(cacheBuster(stored.date, stored.microseconds));
    expect(image.changed()).toBe(false);
  });

  test('every find of the model reads the microseconds; raw, grouped and joined finds work', async () => {
    const owner = await models.Owner.create();
    const written = await owner.picture.fromBlob(png, { store });
    const url = written.locate({ store });
    const { OwnerPicture } = models;
    const where = { ownerId: owner.id };
    const found = [
      ...(await OwnerPicture.findAll({ where })),
      (await OwnerPicture.findOne({ where }))!,
      (await owner.picture.original({ store }))!,
      ...(await owner.picture.images({ store })),
      (await OwnerPicture.findAndCountAll({ where })).rows[0]!,
    ];
    for (const image of found) {
      expect(image.createdAtMicroseconds).toBe(written.createdAtMicroseconds);
      expect(image.locate({ store })).toBe(url);
      // Nothing of the text read shows.
      expect(Object.keys(image.toJSON()).sort()).toEqual(
        ['createdAt', 'height', 'mimetype', 'original', 'ownerId', 'width'].filter(
          (name) => image.get(name) !== undefined,
        ),
      );
      expect(image.changed()).toBe(false);
    }
    const onlyTime = (await OwnerPicture.findOne({ where, attributes: ['createdAt'] }))!;
    expect(onlyTime.createdAtMicroseconds).toBe(written.createdAtMicroseconds);
    expect(Object.keys(onlyTime.toJSON())).toEqual(['createdAt']);
    const reloaded = (await OwnerPicture.findOne({ where }))!;
    await reloaded.reload();
    expect(reloaded.createdAtMicroseconds).toBe(written.createdAtMicroseconds);
    const raw = await OwnerPicture.findAll({ where, raw: true });
    expect(Object.keys(raw[0]!).sort()).toEqual(
      ['createdAt', 'height', 'mimetype', 'original', 'ownerId', 'width'].sort(),
    );
    const widths = await OwnerPicture.findAll({ where, attributes: ['width'] });
    expect(widths.map((image) => image.width)).toEqual([8]);
    const grouped = await OwnerPicture.findAll({
      attributes: ['ownerId', [db.sequelize.fn('COUNT', db.sequelize.col('width')), 'n']],
      group: ['ownerId'],
      raw: true,
    });
    expect(grouped).toHaveLength(1);
    const [latest] = await OwnerPicture.findAll({
      attributes: [[db.sequelize.fn('MAX', db.sequelize.col('created_at')), 'createdAt']],
      where,
    });
    expect(latest!.get('createdAt')).toBeDefined();
    // Through an include the model's hooks do not run: milliseconds only.
    const [joined] = await models.Owner.findAll({ include: ['pictures'], where: { id: owner.id } });
    const pictures = joined!.get('pictures') as Image[];
    expect(pictures[0]!.createdAt.getTime()).toBe(written.createdAt.getTime());
  });

  test('rows in the forms others wrote read with their own digits', async () => {
    const owner = await models.Owner.create();
    const forms: Array<[string, number, string]> =
      kind.name === 'sqlite'
        ? [
            ['2017-10-10 12:34:56', 10, '20171010123456000000'], // SQLAlchemy with now()
            ['2017-10-10 12:34:56.789012', 11, '20171010123456789012'], // SQLAlchemy
            ['2017-10-10 12:34:56.781 +00:00', 12, '20171010123456781000'], // Sequelize
          ]
        : kind.name === 'mysql'
          ? [
              ['2017-10-10 12:34:56', 10, '20171010123456000000'], // the original's DATETIME
              ['2017-10-10 12:34:56.789012', 11, '20171010123456789012'],
              // A seventh digit: MySQL rounds it, MariaDB truncates it; here both give 000001.
              ['2017-10-10 12:34:56.0000014', 12, '20171010123456000001'],
            ]
          : [
              ['2017-10-10 12:34:56+00', 10, '20171010123456000000'],
              ['2017-10-10 12:34:56.789012+00', 11, '20171010123456789012'],
              ['2017-10-10 21:34:56.000001+09', 12, '20171010123456000001'],
            ];
    for (const [text, width] of forms) {
      await db.sequelize.query(
        `INSERT INTO owner_picture (${ownerIdColumn}, width, height, mimetype, original, created_at) ` +
          'VALUES (?, ?, 1, ?, ?, ?)',
        { replacements: [owner.id, width, 'image/png', width === 10, text] },
      );
    }
    for (const [, width, ts] of forms) {
      const image = await owner.picture.findThumbnail({ width }, { store });
      expect(new URL(image.locate({ store })).searchParams.get('_ts')).toBe(ts);
    }
  });

  test('a replacement is dated after the row it replaces', async () => {
    const owner = await models.Owner.create();
    const first = await owner.picture.fromBlob(png, { store });
    const second = await owner.picture.fromBlob(png, { store });
    expect(
      toEpochMicroseconds({ date: second.createdAt, microseconds: second.createdAtMicroseconds }),
    ).toBeGreaterThan(
      toEpochMicroseconds({ date: first.createdAt, microseconds: first.createdAtMicroseconds }),
    );
    expect(second.locate({ store })).not.toBe(first.locate({ store }));
  });

  test('the table has a database-side default for rows others insert', async () => {
    const owner = await models.Owner.create();
    await db.sequelize.query(
      `INSERT INTO owner_picture (${ownerIdColumn}, width, height, mimetype, original) VALUES (?, 3, 3, ?, ?)`,
      { replacements: [owner.id, 'image/png', true] },
    );
    const image = (await owner.picture.original({ store }))!;
    expect(Math.abs(image.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    if (kind.name === 'mysql') {
      // DATETIME(6): a plain DATETIME would drop the fraction.
      const [column] = await db.sequelize.query<{ type: string }>(
        "SELECT COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'owner_picture' AND COLUMN_NAME = 'created_at'",
        { type: QueryTypes.SELECT },
      );
      expect(column!.type).toBe('datetime(6)');
    }
  });
});
