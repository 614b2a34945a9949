/**
 * `parent.picture` of a single-set attachment: the parent's one original and its thumbnails.
 */
import type { Model, ModelStatic, Transaction } from 'sequelize';
import { BaseImageSet } from './image-set.js';
import type { Image } from './image.js';
import type { ParentLink } from './parent-link.js';
import type { ImageSetAddress } from './thumbnail-scheduler.js';

export class SingleImageSet<I extends Image = Image> extends BaseImageSet<I> {
  /** @internal made by `imageAttachment`; use `parent[name]`. */
  constructor(
    /** The parent row the set belongs to. */
    readonly parent: Model,
    model: ModelStatic<I>,
    private readonly link: ParentLink,
  ) {
    super(model, link.sequelize);
  }

  protected identity(): Record<string, unknown> {
    return this.link.identity(this.parent);
  }

  protected address(): ImageSetAddress {
    return this.link.address(this.parent);
  }

  protected lock(transaction: Transaction): Promise<void> {
    return this.link.lock(this.parent, transaction);
  }
}
