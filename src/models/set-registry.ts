/**
 * Which parent owns the image sets of an image model, as `imageAttachment` declared it, so a
 * set can be found again from its image model and identity (the columns besides the size),
 * e.g. by `variantRouter` from a URL.
 */
import type { Model, ModelStatic, WhereOptions } from 'sequelize';
import type { BaseImageSet } from './image-set.js';
import type { Image } from './image.js';
import type { MultipleImageSet } from './multiple-image-set.js';

interface Attachment {
  Parent: ModelStatic<Model>;
  name: string;
  foreignKey: string;
  sourceKey: string;
  multiple: boolean;
}

const attachments = new WeakMap<ModelStatic<Image>, Attachment>();

/** Called by `imageAttachment`; the first attachment of a model is the one found. */
export function registerAttachment(model: ModelStatic<Image>, attachment: Attachment): void {
  if (!attachments.has(model)) attachments.set(model, attachment);
}

/**
 * The image set of `model` with `identity` (every identity attribute of the model given), or
 * `null` when its parent does not exist.
 * @throws {TypeError} when the model was never attached with `imageAttachment`.
 */
export async function findImageSet<I extends Image>(
  model: ModelStatic<I>,
  identity: Record<string, unknown>,
): Promise<BaseImageSet<I> | null> {
  const attachment = attachments.get(model);
  if (attachment === undefined) {
    throw new TypeError(`${model.name} is not attached to a parent with imageAttachment()`);
  }
  const { Parent, name, foreignKey, sourceKey, multiple } = attachment;
  const parent = await Parent.findOne({
    where: { [sourceKey]: identity[foreignKey] } as WhereOptions,
  });
  if (parent === null) return null;
  const set = (parent as unknown as Record<string, unknown>)[name];
  if (!multiple) return set as BaseImageSet<I>;
  const criteria = Object.fromEntries(
    Object.entries(identity).filter(([attribute]) => attribute !== foreignKey),
  );
  return (set as MultipleImageSet<I>).getImageSet(criteria as never);
}
