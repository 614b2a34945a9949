/** A parent with a single image set, on SQLite in a temporary folder, for the benchmarks. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  DataTypes,
  Model,
  Sequelize,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type ModelStatic,
  type NonAttribute,
} from 'sequelize';
import { Image, imageAttachment, imageAttributes, type SingleImageSet } from '../../src/index.js';

export class Photo extends Image<InferAttributes<Photo>, InferCreationAttributes<Photo>> {
  declare albumId: number;
}

export class Album extends Model<InferAttributes<Album>, InferCreationAttributes<Album>> {
  declare id: CreationOptional<number>;
  declare readonly photo: NonAttribute<SingleImageSet<Photo>>;
}

export async function openDatabase(
  folder: string,
  journalMode: 'WAL' | 'DELETE' = 'WAL',
): Promise<Sequelize> {
  const sequelize = new Sequelize({
    dialect: 'sqlite',
    storage: join(folder, 'bench.sqlite'),
    logging: false,
  });
  Album.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'album' },
  );
  Photo.init(
    { albumId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'photo' },
  );
  imageAttachment(Album, 'photo', Photo, { foreignKey: 'albumId' });
  // Write-ahead logging, as production SQLite runs: a commit costs one fsync, not several.
  await sequelize.query(`PRAGMA journal_mode=${journalMode}`);
  await sequelize.sync({ force: true });
  return sequelize;
}

/** Album and photo models of their own on PostgreSQL (DATABASE_URL), in a database of their own. */
export async function openPostgresAlbums(url: string): Promise<{
  sequelize: Sequelize;
  Album: ModelStatic<Album>;
  close(): Promise<void>;
}> {
  const name = `imageattach_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Sequelize(url, { logging: false });
  await admin.query(`CREATE DATABASE "${name}"`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const sequelize = new Sequelize(own.toString(), { logging: false, pool: { max: 10 } });
  class PgPhoto extends Image<InferAttributes<PgPhoto>, InferCreationAttributes<PgPhoto>> {
    declare albumId: number;
  }
  class PgAlbum extends Model<InferAttributes<PgAlbum>, InferCreationAttributes<PgAlbum>> {
    declare id: CreationOptional<number>;
    declare readonly photo: NonAttribute<SingleImageSet<PgPhoto>>;
  }
  PgAlbum.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'album' },
  );
  PgPhoto.init(
    { albumId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'photo' },
  );
  imageAttachment(PgAlbum, 'photo', PgPhoto, { foreignKey: 'albumId' });
  await sequelize.sync({ force: true });
  return {
    sequelize,
    Album: PgAlbum as unknown as ModelStatic<Album>,
    close: async () => {
      await sequelize.close();
      await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.close();
    },
  };
}
