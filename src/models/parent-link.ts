/**
 * How an image model hangs off its parent: the foreign key on the image rows, and the parent
 * key it holds.
 */
import type { Model, Sequelize } from 'sequelize';

export class ParentLink {
  constructor(
    readonly sequelize: Sequelize,
    /** The image model's attribute holding the parent key. */
    readonly foreignKey: string,
    /** The parent's attribute it refers to. */
    readonly sourceKey: string,
    private readonly parentName: string,
  ) {}

  /**
   * `{ [foreignKey]: parent[sourceKey] }`.
   * @throws {TypeError} when the parent has no key yet (it was never saved).
   */
  identity(parent: Model): Record<string, unknown> {
    const value: unknown = parent.get(this.sourceKey);
    if (value === undefined || value === null) {
      throw new TypeError(
        `The ${this.parentName} has no ${this.sourceKey} yet; save it before attaching images.`,
      );
    }
    return { [this.foreignKey]: value };
  }
}
