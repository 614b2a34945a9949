/**
 * Splits the rows of image models into ranges of their primary key, `rangeSize` rows each, for
 * workers to copy one range at a time; and reads one range back. The split reads the key
 * columns only, a page at a time (keyset pagination), so its memory stays flat. A model's last
 * range is open-ended: rows inserted after the split are copied too.
 */
import { Op, type Model, type ModelStatic, type WhereOptions } from 'sequelize';
import type { Image } from '../models/image.js';
import { afterKey } from './model-source.js';
import type { ImageSource } from './types.js';

/** One range of one model: the rows after `after` up to `upTo` (both primary keys). */
export interface KeyRange {
  readonly model: string;
  /** `null`: from the first row. */
  readonly after: readonly unknown[] | null;
  /** `null`: to the end of the table. */
  readonly upTo: readonly unknown[] | null;
  /** Rows in the range when it was made. */
  readonly total: number;
}

/** The ranges of every model, in order. */
export async function* splitIntoRanges(
  models: readonly ModelStatic<Image>[],
  rangeSize: number,
): AsyncGenerator<KeyRange> {
  for (const model of models) {
    const keys = model.primaryKeyAttributes;
    const unscoped = model.unscoped();
    let after: unknown[] | null = null;
    for (;;) {
      const rows = await unscoped.findAll({
        attributes: [...keys],
        where: after === null ? {} : afterKey(keys, after),
        order: keys.map((key) => [key, 'ASC']),
        limit: rangeSize,
        raw: true,
      });
      const last = rows.at(-1) as Record<string, unknown> | undefined;
      const upTo = last === undefined ? null : keys.map((key) => last[key]);
      if (rows.length < rangeSize || upTo === null) {
        // The last range of the model, open-ended (also when the table is empty).
        yield { model: model.name, after, upTo: null, total: rows.length };
        break;
      }
      yield { model: model.name, after, upTo, total: rows.length };
      after = upTo;
    }
  }
}

/** The rows of one range, `pageSize` per query. */
export function rangeImageSource<I extends Image>(
  model: ModelStatic<I>,
  range: Pick<KeyRange, 'after' | 'upTo'>,
  pageSize: number,
): ImageSource<I> {
  const unscoped = model.unscoped();
  const keys = model.primaryKeyAttributes;
  const bounds: WhereOptions[] = [];
  if (range.after !== null) bounds.push(afterKey(keys, range.after));
  if (range.upTo !== null) bounds.push({ [Op.not]: afterKey(keys, range.upTo) });
  return {
    count: () => unscoped.count({ where: { [Op.and]: bounds } }),
    async *images() {
      let after: readonly unknown[] | null = null;
      for (;;) {
        const where: WhereOptions[] =
          after === null ? bounds : [...bounds, afterKey<Model>(keys, after)];
        const rows = await unscoped.findAll({
          where: { [Op.and]: where },
          order: keys.map((key) => [key, 'ASC']),
          limit: pageSize,
        });
        yield* rows;
        if (rows.length < pageSize) return;
        const last = rows[rows.length - 1]!;
        after = keys.map((key) => last.get(key));
      }
    },
  };
}
