/** A parent with a single image set, on SQLite in a temporary folder, for the benchmarks. */
import { join } from 'node:path';
import {
  DataTypes,
  Model,
  Sequelize,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
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
