/**
 * One image set of a {@link MultipleImageSet}: the rows of the parent that match the subset's
 * criteria (its discriminator columns). Replacing, thumbnailing and finding never leave it.
 */
import type { Model, ModelStatic, Transaction } from 'sequelize';
import { BaseImageSet } from './image-set.js';
import type { Image } from './image.js';
import type { ParentLink } from './parent-link.js';
import type { ImageSetAddress } from './thumbnail-scheduler.js';

export class ImageSubset<I extends Image = Image> extends BaseImageSet<I> {
  /** @internal made by `MultipleImageSet.getImageSet()` and `imageSets()`. */
  constructor(
    readonly parent: Model,
    model: ModelStatic<I>,
    private readonly link: ParentLink,
    /** The discriminator values of this subset, e.g. `{ orderIndex: 0 }`. */
    readonly criteria: Readonly<Record<string, unknown>>,
  ) {
    super(model, link.sequelize);
  }

  protected identity(): Record<string, unknown> {
    return { ...this.criteria, ...this.link.identity(this.parent) };
  }

  protected address(): ImageSetAddress {
    return this.link.address(this.parent, this.criteria);
  }

  protected lock(transaction: Transaction): Promise<void> {
    return this.link.lock(this.parent, transaction);
  }
}
