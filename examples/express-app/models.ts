/**
 * The app's models: a `User` with one picture (a single image set) and an `Album` with many
 * photos (a multiple image set, one subset per `position`).
 */
import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type NonAttribute,
  type Sequelize,
} from 'sequelize';
import {
  Image,
  imageAttachment,
  imageAttributes,
  pairObjectId,
  type MultipleImageSet,
  type SingleImageSet,
} from '../../src/index.js';

export const MAX_NAME_LENGTH = 60;

export function defineModels(sequelize: Sequelize) {
  class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
    declare id: CreationOptional<number>;
    declare name: string;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
    declare readonly picture: NonAttribute<SingleImageSet<UserPicture>>;
  }
  User.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: {
        type: DataTypes.STRING(MAX_NAME_LENGTH),
        allowNull: false,
        validate: { len: [1, MAX_NAME_LENGTH] },
      },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'users' },
  );

  class UserPicture extends Image<
    InferAttributes<UserPicture>,
    InferCreationAttributes<UserPicture>
  > {
    declare userId: number;
  }
  UserPicture.init(
    // A ThumbHash of each picture, painted while it loads.
    {
      userId: { type: DataTypes.INTEGER, primaryKey: true },
      ...imageAttributes({ placeholder: true }),
    },
    { sequelize, tableName: 'user_picture' },
  );
  imageAttachment(User, 'picture', UserPicture, { foreignKey: 'userId' });

  class Album extends Model<InferAttributes<Album>, InferCreationAttributes<Album>> {
    declare id: CreationOptional<number>;
    declare title: string;
    /** The position the next photo takes; incremented under the row's lock. */
    declare nextPosition: CreationOptional<number>;
    declare createdAt: CreationOptional<Date>;
    declare updatedAt: CreationOptional<Date>;
    declare readonly photos: NonAttribute<MultipleImageSet<AlbumPhoto>>;
  }
  Album.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      title: {
        type: DataTypes.STRING(MAX_NAME_LENGTH),
        allowNull: false,
        validate: { len: [1, MAX_NAME_LENGTH] },
      },
      nextPosition: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'albums' },
  );

  class AlbumPhoto extends Image<InferAttributes<AlbumPhoto>, InferCreationAttributes<AlbumPhoto>> {
    declare albumId: number;
    declare position: number;
  }
  AlbumPhoto.init(
    {
      albumId: { type: DataTypes.INTEGER, primaryKey: true },
      position: { type: DataTypes.INTEGER, primaryKey: true },
      // Each size in JPEG and WebP (for <picture>), and a ThumbHash placeholder.
      ...imageAttributes({ mimetypeInKey: true, placeholder: true }),
    },
    { sequelize, tableName: 'album_photo' },
  );
  // Two keys paired into one integer, each pair its own: (a + b)² + a.
  imageAttachment(Album, 'photos', AlbumPhoto, {
    foreignKey: 'albumId',
    multiple: true,
    objectId: pairObjectId('albumId', 'position'),
  });

  return { User, UserPicture, Album, AlbumPhoto };
}

export type Models = ReturnType<typeof defineModels>;
export type User = InstanceType<Models['User']>;
export type UserPicture = InstanceType<Models['UserPicture']>;
export type Album = InstanceType<Models['Album']>;
export type AlbumPhoto = InstanceType<Models['AlbumPhoto']>;
