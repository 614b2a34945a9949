/**
 * Reads the rows of an image model a page at a time, by primary key (keyset pagination), so
 * memory stays flat with a million rows and rows inserted or deleted during the run never make
 * it skip another row.
 */
import { Op, type Model, type ModelStatic, type WhereOptions } from 'sequelize';
import type { ImageLike } from '../stores/store.js';
import type { ImageSource } from './types.js';

/** A Sequelize model whose instances are images. */
export type ImageModelStatic<I extends ImageLike & Model = ImageLike & Model> = ModelStatic<I>;

/**
 * The rows of `model` (every row, ignoring scopes; with `where`, those it matches), `pageSize`
 * per query.
 */
export function modelImageSource<I extends ImageLike & Model>(
  model: ModelStatic<I>,
  pageSize: number,
  where: WhereOptions<I> = {},
): ImageSource<I> {
  const unscoped = model.unscoped();
  const keys = model.primaryKeyAttributes;
  return {
    count: () => unscoped.count({ where }),
    images: () =>
      keys.length > 0
        ? byKey(unscoped, keys, pageSize, where)
        : byOffset(unscoped, pageSize, where),
  };
}

/** Several sources, one after the other. */
export function chainSources<I extends ImageLike>(
  sources: readonly ImageSource<I>[],
): ImageSource<I> {
  return {
    async count() {
      let total = 0;
      for (const source of sources) total += await source.count();
      return total;
    },
    async *images() {
      for (const source of sources) yield* source.images();
    },
  };
}

async function* byKey<I extends ImageLike & Model>(
  model: ModelStatic<I>,
  keys: readonly string[],
  pageSize: number,
  where: WhereOptions<I>,
): AsyncGenerator<I> {
  let after: unknown[] | undefined;
  for (;;) {
    const rows = await model.findAll({
      where: after === undefined ? where : { [Op.and]: [where, afterKey<I>(keys, after)] },
      order: keys.map((key) => [key, 'ASC']),
      limit: pageSize,
    });
    yield* rows;
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1]!;
    after = keys.map((key) => last.get(key));
  }
}

/** Tables without a primary key: pages by offset, which a concurrent delete can disturb. */
async function* byOffset<I extends ImageLike & Model>(
  model: ModelStatic<I>,
  pageSize: number,
  where: WhereOptions<I>,
): AsyncGenerator<I> {
  for (let offset = 0; ; offset += pageSize) {
    const rows = await model.findAll({
      where,
      // Without a key, ordering by every column is the only stable order there is.
      order: Object.keys(model.getAttributes()).map((name) => [name, 'ASC']),
      offset,
      limit: pageSize,
    });
    yield* rows;
    if (rows.length < pageSize) return;
  }
}

/** `(k1, k2, …) > (v1, v2, …)`, spelled out so that every dialect understands it. */
export function afterKey<I extends Model>(
  keys: readonly string[],
  values: readonly unknown[],
): WhereOptions<I> {
  const alternatives = keys.map((key, i) => {
    const clause: Record<string, unknown> = {};
    for (let j = 0; j < i; j += 1) clause[keys[j]!] = values[j];
    clause[key] = { [Op.gt]: values[i] };
    return clause;
  });
  return (
    alternatives.length === 1 ? alternatives[0] : { [Op.or]: alternatives }
  ) as WhereOptions<I>;
}
