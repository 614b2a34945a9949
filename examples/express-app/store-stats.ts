/**
 * What each store holds of the images the database knows: how many of their files it has and
 * how many bytes they take. Used by the admin page, and before switching to another store.
 */
import type { Sequelize } from 'sequelize';
import { type Image, type Store } from '../../src/index.js';
import { imageModelsOf } from '../../src/migration/migrate.js';

export interface StoreStats {
  /** Image rows in the database (originals and thumbnails). */
  total: number;
  /** Of those, the files the store has; `null` when the store cannot tell cheaply. */
  present: number | null;
  /** The bytes of the files it has; `null` when the store cannot tell. */
  bytes: number | null;
}

const CONCURRENCY = 8;

export async function storeStats(sequelize: Sequelize, store: Store): Promise<StoreStats> {
  const images = await allImages(sequelize);
  const statFile = store.statFile?.bind(store);
  if (statFile === undefined) return { total: images.length, present: null, bytes: null };
  let present = 0;
  let bytes = 0;
  await forEachLimited(images, async (image) => {
    const stat = await statFile(
      image.objectType,
      image.objectId,
      image.width,
      image.height,
      image.mimetype,
    );
    if (stat !== undefined) {
      present += 1;
      bytes += stat.size;
    }
  });
  return { total: images.length, present, bytes };
}

/** How many image files the store lacks; opens each one when the store has no `statFile`. */
export async function missingFiles(sequelize: Sequelize, store: Store): Promise<number> {
  const stats = await storeStats(sequelize, store);
  if (stats.present !== null) return stats.total - stats.present;
  let missing = 0;
  await forEachLimited(await allImages(sequelize), async (image) => {
    try {
      (await store.open(image)).destroy();
    } catch {
      missing += 1;
    }
  });
  return missing;
}

async function allImages(sequelize: Sequelize): Promise<Image[]> {
  const lists = await Promise.all(imageModelsOf(sequelize).map((model) => model.findAll()));
  return lists.flat();
}

async function forEachLimited<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}
