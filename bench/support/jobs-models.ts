/**
 * The models of bench/workers.ts on DATABASE_URL: the bench process and its worker processes
 * (`sequelize-imageattach worker --models bench/support/jobs-models.ts`) load the same.
 */
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

export class Cover extends Image<InferAttributes<Cover>, InferCreationAttributes<Cover>> {
  declare bookId: number;
}

export class Book extends Model<InferAttributes<Book>, InferCreationAttributes<Book>> {
  declare id: CreationOptional<number>;
  declare readonly cover: NonAttribute<SingleImageSet<Cover>>;
}

const url = process.env.DATABASE_URL;
if (url === undefined) throw new Error('DATABASE_URL is not set');

export const sequelize = new Sequelize(url, { logging: false, pool: { max: 3 } });
Book.init(
  { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
  { sequelize, tableName: 'book' },
);
Cover.init(
  { bookId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
  { sequelize, tableName: 'cover' },
);
imageAttachment(Book, 'cover', Cover, { foreignKey: 'bookId' });
