/**
 * `parent.photos` of a `multiple: true` attachment: a set of image sets, each told apart by
 * the image model's discriminator columns (primary key columns besides the parent key, width
 * and height).
 */
import type { Attributes, Model, ModelStatic, Sequelize, WhereOptions } from 'sequelize';
import { describe } from '../stores/keys.js';
import { ImageSubset } from './image-subset.js';
import type { ImageSetOptions } from './image-set.js';
import type { Image } from './image.js';
import type { ParentLink } from './parent-link.js';

export class MultipleImageSet<I extends Image = Image> {
  /** The Sequelize of the parent model, for transactions spanning several calls. */
  readonly sequelize: Sequelize;
  /** Names of the columns that tell the subsets apart. */
  readonly discriminators: readonly string[];

  /** @internal made by `imageAttachment`; use `parent[name]`. */
  constructor(
    readonly parent: Model,
    readonly model: ModelStatic<I>,
    private readonly link: ParentLink,
  ) {
    this.sequelize = link.sequelize;
    this.discriminators = (model as unknown as typeof Image).identityAttributes
      .call(model as ModelStatic<Image>)
      .filter((name) => name !== link.foreignKey);
  }

  /**
   * The subset with these discriminator values, e.g. `getImageSet({ orderIndex: 0 })`. It
   * need not exist yet: attaching to an empty subset creates it.
   * @throws {TypeError} unless `criteria` names exactly the discriminator columns.
   */
  getImageSet(criteria: Partial<Attributes<I>>): ImageSubset<I> {
    if (typeof criteria !== 'object' || criteria === null) {
      throw new TypeError(`criteria must be an object, not ${describe(criteria)}`);
    }
    const given = Object.keys(criteria);
    const missing = this.discriminators.filter((name) => !given.includes(name));
    const unknown = given.filter((name) => !this.discriminators.includes(name));
    if (missing.length > 0 || unknown.length > 0) {
      throw new TypeError(
        `criteria must give exactly ${this.discriminators.join(', ') || '(no columns)'}` +
          (missing.length > 0 ? `; missing ${missing.join(', ')}` : '') +
          (unknown.length > 0 ? `; not discriminators: ${unknown.join(', ')}` : ''),
      );
    }
    for (const name of given) {
      const value = (criteria as Record<string, unknown>)[name];
      if (value === undefined || value === null) {
        throw new TypeError(`criteria.${name} must have a value`);
      }
    }
    return new ImageSubset(this.parent, this.model, this.link, { ...criteria });
  }

  /** The subsets that have an original, in discriminator order. */
  async imageSets(options: ImageSetOptions = {}): Promise<ImageSubset<I>[]> {
    const originals = await this.model.findAll({
      where: { ...this.link.identity(this.parent), original: true } as unknown as WhereOptions<
        Attributes<I>
      >,
      order: this.discriminators.map((name) => [name, 'ASC']),
      transaction: options.transaction ?? undefined,
    });
    return originals.map((image) => {
      const criteria: Record<string, unknown> = {};
      for (const name of this.discriminators) criteria[name] = image.get(name);
      return new ImageSubset(this.parent, this.model, this.link, criteria);
    });
  }

  /** Every image of every subset. */
  images(options: ImageSetOptions = {}): Promise<I[]> {
    return this.model.findAll({
      where: this.link.identity(this.parent) as WhereOptions<Attributes<I>>,
      order: [
        ...this.discriminators.map((name) => [name, 'ASC'] as [string, string]),
        ['original', 'DESC'],
        ['width', 'ASC'],
        ['height', 'ASC'],
      ],
      transaction: options.transaction ?? undefined,
    });
  }

  /** How many images all subsets hold together. */
  count(options: ImageSetOptions = {}): Promise<number> {
    return this.model.count({
      where: this.link.identity(this.parent) as WhereOptions<Attributes<I>>,
      transaction: options.transaction ?? undefined,
    });
  }
}
