/**
 * A parent with one single image set, named by the caller: the models of the tests of the
 * delivery helpers and placeholders (the HTML helpers, the README's "Delivering images",
 * placeholders filled at upload, the browser), which differ only in names and in the image
 * columns they ask for.
 */
import {
  DataTypes,
  Model,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type ModelStatic,
  type NonAttribute,
  type Sequelize,
} from 'sequelize';
import {
  Image,
  imageAttachment,
  imageAttributes,
  type ImageAttributesOptions,
  type SingleImageSet,
} from '../../src/index.js';

export interface SingleImageModelNames<S extends string> {
  /** The parent's model name, in PascalCase: `Album`. */
  parent: string;
  /** @default Sequelize's plural of `parent` */
  parentTable?: string;
  /** The parent's property holding the set: `cover`. */
  set: S;
}

/**
 * The models, named as the README names its own: for `Album` and `cover`, the image model
 * `AlbumCover` on table `album_cover`, keyed by the album's id in `albumId`.
 */
export function defineSingleImageModels<const S extends string>(
  sequelize: Sequelize,
  names: SingleImageModelNames<S>,
  columns: ImageAttributesOptions,
) {
  const foreignKey = `${names.parent[0]!.toLowerCase()}${names.parent.slice(1)}Id`;
  class Parent extends Model<InferAttributes<Parent>, InferCreationAttributes<Parent>> {
    declare id: CreationOptional<number>;
  }
  Parent.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, modelName: names.parent, tableName: names.parentTable },
  );
  class ParentImage extends Image<
    InferAttributes<ParentImage>,
    InferCreationAttributes<ParentImage>
  > {}
  ParentImage.init(
    {
      [foreignKey]: { type: DataTypes.INTEGER, primaryKey: true },
      ...imageAttributes(columns),
    },
    {
      sequelize,
      modelName: `${names.parent}${names.set[0]!.toUpperCase()}${names.set.slice(1)}`,
      tableName: `${snakeCase(names.parent)}_${snakeCase(names.set)}`,
    },
  );
  imageAttachment(Parent, names.set, ParentImage, { foreignKey });
  // The set's property is the caller's name, so the class cannot declare it: the type adds it.
  type WithSet = Parent & { readonly [K in S]: NonAttribute<SingleImageSet<ParentImage>> };
  return { Parent: Parent as ModelStatic<WithSet>, Image: ParentImage };
}

/** `ProductPhoto` → `product_photo`. */
function snakeCase(name: string): string {
  return name.replace(/(?<=[a-z0-9])([A-Z])/g, '_$1').toLowerCase();
}
