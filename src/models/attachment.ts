/**
 * `imageAttachment(Parent, name, ImageModel, options)`: declares that each parent owns an
 * image set (or, with `multiple: true`, a set of image sets) of the image model.
 */
import type { DestroyOptions, HasMany, Model, ModelStatic, WhereOptions } from 'sequelize';
import { InvalidOptionError } from '../errors.js';
import type { ImageDestroyOptions } from './image-hooks.js';
import { Image } from './image.js';
import { MultipleImageSet } from './multiple-image-set.js';
import { ParentLink } from './parent-link.js';
import { registerAttachment } from './set-registry.js';
import { SingleImageSet } from './single-image-set.js';
import { ensureSqliteSetUp } from './sqlite-setup.js';

export interface ImageAttachmentOptions<I extends Image = Image> {
  /** The image model's attribute holding the parent's key (part of its primary key). */
  foreignKey: string;
  /** @default the parent's primary key attribute */
  sourceKey?: string;
  /** `true` makes `parent[name]` a {@link MultipleImageSet}. @default false */
  multiple?: boolean;
  /**
   * The alias of the underlying `hasMany` association (for `include`).
   * @default `${name}Images`
   */
  as?: string;
  /**
   * The image model's object id, for a key the default cannot use (several columns, a string):
   * e.g. `pairObjectId('postId', 'orderIndex')`. It becomes the model's `objectIdOf`, so every
   * use of the model (migration, gc) sees it.
   * @default the single integer or UUID key column (besides width and height)
   */
  objectId?: (image: I) => bigint;
}

/**
 * Makes `parent[name]` the parent's image set, backed by a `hasMany` association with
 * `onDelete: 'CASCADE'` and `hooks: true`, so `parent.destroy()` destroys the image rows one
 * by one and their files go after the commit; a bulk `Parent.destroy({ where })` does the same. Declare the property on the parent class:
 * `declare readonly picture: NonAttribute<SingleImageSet<UserPicture>>`.
 *
 * @example
 * imageAttachment(User, 'picture', UserPicture, { foreignKey: 'userId' });
 * imageAttachment(Post, 'photos', PostPhoto, {
 *   foreignKey: 'postId',
 *   multiple: true,
 *   objectId: pairObjectId('postId', 'orderIndex'),
 * });
 */
export function imageAttachment<P extends Model, I extends Image>(
  Parent: ModelStatic<P>,
  name: string,
  ImageModel: ModelStatic<I>,
  options: ImageAttachmentOptions<I>,
): HasMany<P, I> {
  if (!(ImageModel.prototype instanceof Image)) {
    throw new TypeError('ImageModel must be a subclass of Image');
  }
  if (typeof name !== 'string' || name === '') throw new TypeError('name must be a string');
  const { foreignKey, multiple = false } = options ?? {};
  if (typeof foreignKey !== 'string' || !(foreignKey in ImageModel.getAttributes())) {
    throw new InvalidOptionError(
      'foreignKey',
      `must name an attribute of ${ImageModel.name}, not ${String(foreignKey)}`,
    );
  }
  const sourceKey = options.sourceKey ?? Parent.primaryKeyAttribute;
  if (!(sourceKey in Parent.getAttributes())) {
    throw new InvalidOptionError('sourceKey', `must name an attribute of ${Parent.name}`);
  }
  if (name in Parent.getAttributes() || name in Parent.prototype) {
    throw new TypeError(`${Parent.name} already has a property ${name}`);
  }
  const objectIdOf = options.objectId;
  const model = ImageModel as ModelStatic<I> & typeof Image;
  if (objectIdOf !== undefined) {
    if (typeof objectIdOf !== 'function') {
      throw new InvalidOptionError('objectId', 'must be a function from an image to a bigint');
    }
    if (model.objectIdOf !== undefined && model.objectIdOf !== objectIdOf) {
      throw new InvalidOptionError('objectId', `${ImageModel.name} has another objectIdOf already`);
    }
  }
  const association = Parent.hasMany(ImageModel, {
    as: options.as ?? `${name}Images`,
    foreignKey,
    sourceKey,
    onDelete: 'CASCADE',
    hooks: true,
  });
  // A bulk DELETE of parents would let the database cascade to the image rows behind the
  // hooks' back, leaving their files: destroy those rows one by one first.
  Parent.addHook(
    'beforeBulkDestroy',
    `imageattach:${name}`,
    async (destroyOptions: DestroyOptions & Pick<ImageDestroyOptions, 'imageStore'>) => {
      const { transaction, imageStore } = destroyOptions;
      const parents = await Parent.findAll({
        where: destroyOptions.where,
        attributes: [sourceKey],
        transaction,
      });
      if (parents.length === 0) return;
      const images = await ImageModel.findAll({
        where: { [foreignKey]: parents.map((parent) => parent.get(sourceKey)) } as WhereOptions,
        transaction,
      });
      for (const image of images) await image.destroy({ transaction, imageStore });
    },
  );
  if (objectIdOf !== undefined) {
    model.objectIdOf = objectIdOf as (image: Image<object, object>) => bigint;
  }
  registerAttachment(model, { Parent, name, foreignKey, sourceKey, multiple });
  // Before the application's first transaction, so that its IMMEDIATE ones take turns too.
  ensureSqliteSetUp(Parent.sequelize!);
  const link = new ParentLink(Parent.sequelize!, foreignKey, sourceKey, Parent.name, name);
  const sets = new WeakMap<Model, SingleImageSet<I> | MultipleImageSet<I>>();
  Object.defineProperty(Parent.prototype, name, {
    configurable: true,
    enumerable: false,
    get(this: Model) {
      let set = sets.get(this);
      if (set === undefined) {
        set = multiple
          ? new MultipleImageSet(this, ImageModel, link)
          : new SingleImageSet(this, ImageModel, link);
        sets.set(this, set);
      }
      return set;
    },
  });
  return association;
}
