/**
 * The models of the original's entity tests, defined on a given Sequelize: `User` with a
 * single set (`UserPicture`), `Post` with a multiple set (`PostPhoto`, discriminator
 * `orderIndex`), and image models with other keys for the objectId tests.
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
  type MultipleImageSet,
  type SingleImageSet,
} from '../../src/index.js';

export function defineModels(sequelize: Sequelize) {
  class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
    declare id: CreationOptional<number>;
    declare name: CreationOptional<string>;
    declare readonly picture: NonAttribute<SingleImageSet<UserPicture>>;
  }
  User.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: { type: DataTypes.STRING, allowNull: false, defaultValue: 'someone' },
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
    { userId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'user_picture' },
  );
  imageAttachment(User, 'picture', UserPicture, { foreignKey: 'userId' });

  class Post extends Model<InferAttributes<Post>, InferCreationAttributes<Post>> {
    declare id: CreationOptional<number>;
    declare readonly photos: NonAttribute<MultipleImageSet<PostPhoto>>;
  }
  Post.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'posts' },
  );

  class PostPhoto extends Image<InferAttributes<PostPhoto>, InferCreationAttributes<PostPhoto>> {
    declare postId: number;
    declare orderIndex: number;
    declare caption: string | null;

    // The original's ManythingCover recipe: two keys paired into one integer.
    override get objectId(): NonAttribute<bigint> {
      const a = BigInt(this.postId);
      const b = BigInt(this.orderIndex);
      return (a + b) ** 2n + a;
    }
  }
  PostPhoto.init(
    {
      postId: { type: DataTypes.INTEGER, primaryKey: true },
      orderIndex: { type: DataTypes.INTEGER, primaryKey: true },
      caption: { type: DataTypes.STRING, allowNull: true },
      ...imageAttributes(),
    },
    { sequelize, tableName: 'post_photo' },
  );
  imageAttachment(Post, 'photos', PostPhoto, { foreignKey: 'postId', multiple: true });

  return { User, UserPicture, Post, PostPhoto };
}

export type Models = ReturnType<typeof defineModels>;
