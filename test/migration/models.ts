/**
 * The models of the original's migration tests: `Something` with `SomethingCover` and its
 * clone `Samething` with `SamethingCover` (another table), seeded as the original's fixture:
 * two covers of each, one of them with three thumbnails.
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
  type SingleImageSet,
  type Store,
} from '../../src/index.js';
import { jpeg, jpeg405x640 } from '../fixtures/samples.js';

export function defineMigrationModels(sequelize: Sequelize) {
  class Something extends Model<InferAttributes<Something>, InferCreationAttributes<Something>> {
    declare id: CreationOptional<number>;
    declare readonly cover: NonAttribute<SingleImageSet<SomethingCover>>;
  }
  Something.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'something', timestamps: false },
  );
  class SomethingCover extends Image<
    InferAttributes<SomethingCover>,
    InferCreationAttributes<SomethingCover>
  > {
    declare somethingId: number;
  }
  SomethingCover.init(
    { somethingId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'something_cover' },
  );
  imageAttachment(Something, 'cover', SomethingCover, { foreignKey: 'somethingId' });

  class Samething extends Model<InferAttributes<Samething>, InferCreationAttributes<Samething>> {
    declare id: CreationOptional<number>;
    declare readonly cover: NonAttribute<SingleImageSet<SamethingCover>>;
  }
  Samething.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'samething', timestamps: false },
  );
  class SamethingCover extends Image<
    InferAttributes<SamethingCover>,
    InferCreationAttributes<SamethingCover>
  > {
    declare samethingId: number;
  }
  SamethingCover.init(
    { samethingId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'samething_cover' },
  );
  imageAttachment(Samething, 'cover', SamethingCover, { foreignKey: 'samethingId' });

  return { Something, SomethingCover, Samething, SamethingCover };
}

export type MigrationModels = ReturnType<typeof defineMigrationModels>;

/** Two covers of each kind in `store`; the first of each has thumbnails 100, 200 and 300 wide. */
export async function seedCovers(models: MigrationModels, store: Store): Promise<void> {
  const parents = [() => models.Something.create(), () => models.Samething.create()] as const;
  for (const [kind, create] of parents.entries()) {
    for (let i = 0; i < 2; i += 1) {
      const parent = await create();
      const sample = i === 0 ? await jpeg405x640(kind + 1) : await jpeg(64, 48, 30 + i);
      await parent.cover.fromFile(sample.bytes, { store });
      if (i === 0) {
        for (const width of [100, 200, 300]) {
          await parent.cover.generateThumbnail({ width }, { store });
        }
      }
    }
  }
}
