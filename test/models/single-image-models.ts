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
  /** The parent's model name. */
  parent: string;
  /** @default Sequelize's plural of `parent` */
  parentTable?: string;
  /** The image model's name. */
  image: string;
  imageTable: string;
  /** The parent's property holding the set. */
  set: S;
  /** The image model's column holding the parent's id. */
  foreignKey: string;
}

export function defineSingleImageModels<const S extends string>(
  sequelize: Sequelize,
  names: SingleImageModelNames<S>,
  columns: ImageAttributesOptions,
) {
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
      [names.foreignKey]: { type: DataTypes.INTEGER, primaryKey: true },
      ...imageAttributes(columns),
    },
    { sequelize, modelName: names.image, tableName: names.imageTable },
  );
  imageAttachment(Parent, names.set, ParentImage, { foreignKey: names.foreignKey });
  // The set's property is the caller's name, so the class cannot declare it: the type adds it.
  type WithSet = Parent & { readonly [K in S]: NonAttribute<SingleImageSet<ParentImage>> };
  return { Parent: Parent as ModelStatic<WithSet>, Image: ParentImage };
}
