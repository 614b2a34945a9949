/**
 * What the migration engine's tests share: a real SQLite database with a small image model of
 * its own (composite primary key, as image tables have), and real file-system stores that
 * record what they were asked to do.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DataTypes,
  Model,
  Sequelize,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type NonAttribute,
} from 'sequelize';
import { FileSystemStore, type FileInput } from '../../src/index.js';
import { makeTempDir } from '../support/temp-dir.js';

export class Photo extends Model<InferAttributes<Photo>, InferCreationAttributes<Photo>> {
  declare thingId: number;
  declare width: number;
  declare height: number;
  declare mimetype: string;
  declare original: boolean;
  declare createdAt: CreationOptional<Date>;

  get objectType(): NonAttribute<string> {
    return 'photo';
  }

  get objectId(): NonAttribute<bigint> {
    return BigInt(this.thingId);
  }
}

/** A file-system store that records every completed write and how many ran at once. */
export class RecordingStore extends FileSystemStore {
  /** `key reproducible` of every write that completed, in order. */
  readonly written: string[] = [];
  active = 0;
  maxActive = 0;
  /** Changes the bytes written: `flip` keeps the size, `truncate` drops the last byte. */
  damage: 'none' | 'flip' | 'truncate' = 'none';

  override async putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
  ): Promise<void> {
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      let input = file;
      if (this.damage !== 'none') {
        const chunks: Buffer[] = [];
        for await (const chunk of file as Readable) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        if (this.damage === 'flip') bytes[0] = bytes[0]! ^ 0xff;
        input = Readable.from([this.damage === 'truncate' ? bytes.subarray(1) : bytes]);
      }
      await super.putFile(input, objectType, objectId, width, height, mimetype, reproducible);
      this.written.push(`${objectType}/${objectId}/${width}x${height} ${reproducible}`);
    } finally {
      this.active -= 1;
    }
  }
}

export function bytesFor(thingId: number, width: number): Buffer {
  const size = 1000 + thingId * 37 + width;
  const seed = createHash('sha512').update(`${thingId}:${width}`).digest();
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(bytes, i);
  return bytes;
}

export interface MigrationFixture {
  sequelize: Sequelize;
  /** Every SQL statement run since the fixture was made. */
  queries: string[];
  source: RecordingStore;
  destination: RecordingStore;
  /** `thingId`s seeded, each with an original 40x30 and a thumbnail 20x15. */
  things: number[];
  cleanup: () => Promise<void>;
}

/** A database with `things` photos (two rows each) and their files in `source`. */
export async function migrationFixture(things = 12): Promise<MigrationFixture> {
  const dir = await makeTempDir('migration');
  const queries: string[] = [];
  const sequelize = new Sequelize({
    dialect: 'sqlite',
    storage: join(dir.path, 'db.sqlite'),
    logging: (sql) => queries.push(sql),
  });
  Photo.init(
    {
      thingId: { type: DataTypes.INTEGER, primaryKey: true, field: 'thing_id' },
      width: { type: DataTypes.INTEGER, primaryKey: true },
      height: { type: DataTypes.INTEGER, primaryKey: true },
      mimetype: { type: DataTypes.STRING, allowNull: false },
      original: { type: DataTypes.BOOLEAN, allowNull: false },
      createdAt: { type: DataTypes.DATE, field: 'created_at', defaultValue: DataTypes.NOW },
    },
    { sequelize, tableName: 'photo', timestamps: false },
  );
  await sequelize.sync();
  const source = new RecordingStore({ path: join(dir.path, 'source'), baseUrl: 'http://src/' });
  const destination = new RecordingStore({ path: join(dir.path, 'dest'), baseUrl: 'http://dst/' });
  const ids = Array.from({ length: things }, (_, i) => i + 1);
  for (const thingId of ids) {
    for (const [width, height, original] of [
      [40, 30, true],
      [20, 15, false],
    ] as const) {
      await Photo.create({ thingId, width, height, mimetype: 'image/png', original });
      await source.putFile(
        bytesFor(thingId, width),
        'photo',
        thingId,
        width,
        height,
        'image/png',
        !original,
      );
    }
  }
  source.written.length = 0;
  queries.length = 0;
  return {
    sequelize,
    queries,
    source,
    destination,
    things: ids,
    cleanup: async () => {
      await sequelize.close();
      await dir.remove();
    },
  };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
