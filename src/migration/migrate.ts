/**
 * `migrate` and `migrateClass`: the original's entry points, over Sequelize models.
 */
import { Sequelize, type ModelStatic } from 'sequelize';
import { ensureSqliteSetUp } from '../models/sqlite-setup.js';
import { Image } from '../models/image.js';
import { chainSources, modelImageSource } from './model-source.js';
import { MigrationPlan, pageSizeOf } from './plan.js';
import type { MigrationOptions } from './types.js';
import type { Store } from '../stores/store.js';

/** A model class that extends {@link Image}. */
export type ImageModel = ModelStatic<Image>;

/**
 * A plan that copies the files of every image row (originals and thumbnails) of every model
 * of `sequelize` that extends {@link Image}, each table once, from `source` to `destination`.
 * Nothing happens until the plan is iterated or executed; source files are never deleted and
 * the database is never written.
 *
 * @example
 * const report = await migrate(sequelize, diskStore, s3Store, { skipExisting: true }).execute();
 */
export function migrate(
  sequelize: Sequelize,
  source: Store,
  destination: Store,
  options: MigrationOptions = {},
): MigrationPlan<Image> {
  if (!(sequelize instanceof Sequelize)) {
    throw new TypeError('sequelize must be a Sequelize instance with the image models defined');
  }
  // Migration only reads rows; next to a running app its reads may meet a commit: wait for it.
  ensureSqliteSetUp(sequelize);
  const pageSize = pageSizeOf(options);
  const models = imageModelsOf(sequelize);
  const sources = models.map((model) => modelImageSource(model, pageSize));
  const plan = new MigrationPlan(chainSources(sources), source, destination, options);
  plan.distributable = { sequelize, models, options };
  return plan;
}

/** A plan for the rows of one image model. */
export function migrateClass<I extends Image>(
  model: ModelStatic<I>,
  source: Store,
  destination: Store,
  options: MigrationOptions = {},
): MigrationPlan<I> {
  if (typeof model !== 'function' || !(model.prototype instanceof Image)) {
    throw new TypeError('model must be a model class that extends Image');
  }
  const plan = new MigrationPlan(
    modelImageSource(model, pageSizeOf(options)),
    source,
    destination,
    options,
  );
  if (model.sequelize !== undefined) {
    const models = [model as unknown as ModelStatic<Image>];
    plan.distributable = { sequelize: model.sequelize, models, options };
  }
  return plan;
}

/**
 * The image models of a Sequelize instance, one per table: two models over one table would
 * otherwise copy the same files twice (the original's single-table-inheritance FIXME).
 */
export function imageModelsOf(sequelize: Sequelize): ImageModel[] {
  const byTable = new Map<string, ImageModel>();
  for (const model of Object.values(sequelize.models)) {
    if (!(model.prototype instanceof Image)) continue;
    const table = JSON.stringify(model.getTableName());
    if (!byTable.has(table)) byTable.set(table, model as unknown as ImageModel);
  }
  return [...byTable.values()];
}
