/**
 * How an image model hangs off its parent: the foreign key on the image rows, and the parent
 * key it holds.
 */
import { Transaction, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import type { ImageSetAddress } from './thumbnail-scheduler.js';

export class ParentLink {
  constructor(
    readonly sequelize: Sequelize,
    /** The image model's attribute holding the parent key. */
    readonly foreignKey: string,
    /** The parent's attribute it refers to. */
    readonly sourceKey: string,
    private readonly parentName: string,
    /** The attachment's name on the parent (`parent[attachment]`). */
    readonly attachment = '',
  ) {}

  /** Where the parent's set (or subset of `criteria`) lives, for a worker to find it again. */
  address(parent: Model, criteria?: Readonly<Record<string, unknown>>): ImageSetAddress {
    const Parent = parent.constructor as ModelStatic<Model>;
    const key = this.identity(parent)[this.foreignKey] as string | number;
    return {
      model: Parent.options.modelName ?? Parent.name,
      sourceKey: this.sourceKey,
      key,
      attachment: this.attachment,
      ...(criteria === undefined ? {} : { criteria: { ...criteria } }),
    };
  }

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

  /**
   * Locks the parent row for the rest of `transaction`, so two transactions writing images of
   * one parent take turns, and the second sees what the first committed: PostgreSQL and MySQL
   * lock the row. SQLite locks the whole database for a writer: a transaction of the library
   * holds the write lock from its BEGIN IMMEDIATE, and the UPDATE takes it for a DEFERRED one
   * (which joined the process's write turns first, see `write-turns.ts`).
   */
  async lock(parent: Model, transaction: Transaction): Promise<void> {
    const Parent = parent.constructor as ModelStatic<Model>;
    const where = this.identityOfParent(parent);
    if (this.sequelize.getDialect() === 'sqlite') {
      // One statement less per call: a root begun IMMEDIATE holds the write lock already.
      if (begunImmediate(transaction)) return;
      await Parent.update(where, {
        where,
        transaction,
        hooks: false,
        silent: true,
        validate: false,
        fields: [this.sourceKey],
      });
    } else {
      await Parent.findOne({ where, attributes: [this.sourceKey], lock: true, transaction });
    }
  }

  private identityOfParent(parent: Model): Record<string, unknown> {
    const value: unknown = parent.get(this.sourceKey);
    return { [this.sourceKey]: value };
  }
}

/** Whether the root of `transaction` began IMMEDIATE or EXCLUSIVE (SQLite's write lock). */
function begunImmediate(transaction: Transaction): boolean {
  let root = transaction as Transaction & { parent?: Transaction; options?: { type?: string } };
  while (root.parent) root = root.parent;
  const type = root.options?.type;
  return type === Transaction.TYPES.IMMEDIATE || type === Transaction.TYPES.EXCLUSIVE;
}
