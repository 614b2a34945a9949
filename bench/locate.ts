/**
 * locate: `image.locate()` on loaded image rows against string concatenation of a URL
 * computed beforehand (the least any cache-busted URL can cost).
 */
import type { Sequelize } from 'sequelize';
import type { Image } from '../src/index.js';
import { FileSystemStore } from '../src/index.js';
import { alternate, report, runStandalone, type Benchmark } from './harness.js';
import { Photo, openDatabase } from './support/models.js';
import { tempFolder } from './support/inputs.js';

const IMAGES = 1000;
const CALLS = Number(process.env.BENCH_LOCATE_CALLS ?? 1_000_000);

export const locate: Benchmark = {
  name: 'locate',
  description: `image.locate() x ${CALLS} on ${IMAGES} images vs concatenating precomputed URLs`,
  async run() {
    const folder = await tempFolder('bench-locate');
    const sequelize: Sequelize = await openDatabase(folder.path);
    try {
      const store = new FileSystemStore({ path: folder.path, baseUrl: 'https://img.example.com/' });
      const createdAt = Date.UTC(2026, 10, 27, 12, 0, 0, 0);
      // Rows as a query returns them (isNewRecord false), without touching the database.
      const images: Image[] = Array.from({ length: IMAGES }, (_, i) =>
        Photo.build(
          {
            albumId: i + 1,
            width: 256,
            height: 192,
            mimetype: 'image/jpeg',
            original: false,
            createdAt: new Date(createdAt + i),
          },
          { isNewRecord: false, raw: true },
        ),
      );
      const urls = images.map((image) =>
        store.getUrl(image.objectType, image.objectId, image.width, image.height, image.mimetype),
      );
      const stamps = images.map((image) => `?_ts=${cacheBusterOf(image.createdAt)}`);
      if (images[7]?.locate({ store }) !== `${urls[7]}${stamps[7]}`) {
        throw new Error('locate() and the baseline disagree');
      }
      // Both loops keep every string they make, as a page being rendered would: otherwise the
      // optimiser may skip building the concatenated string at all.
      const kept: string[] = new Array<string>(IMAGES).fill('');
      const comparison = await alternate({
        name: 'locate',
        unit: 'calls/s',
        ours: () => {
          const start = process.hrtime.bigint();
          for (let i = 0; i < CALLS; i += 1) {
            kept[i % IMAGES] = (images[i % IMAGES] as Image).locate({ store });
          }
          return Promise.resolve({ value: CALLS / seconds(start) });
        },
        baseline: () => {
          const start = process.hrtime.bigint();
          for (let i = 0; i < CALLS; i += 1) {
            const at = i % IMAGES;
            kept[at] = (urls[at] as string) + (stamps[at] as string);
          }
          return Promise.resolve({ value: CALLS / seconds(start) });
        },
      });
      const ratioMet = report(comparison, {
        minRatio: 0.5,
        description: '>= 0.5 of concatenation',
      });
      const rate = [...comparison.ours.map((m) => m.value)].sort((a, b) => a - b)[
        Math.floor(comparison.ours.length / 2)
      ] as number;
      const rateMet = rate > 1_000_000;
      console.log(
        `  ours ${Math.round(rate)} calls/s, target > 1,000,000${rateMet ? ' (target met)' : ' (TARGET MISSED)'}`,
      );
      if (kept.some((url) => url === '')) throw new Error('a URL was not made');
      return ratioMet && rateMet;
    } finally {
      await sequelize.close();
      await folder.remove();
    }
  },
};

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function cacheBusterOf(date: Date): string {
  return date.toISOString().replace(/[-:TZ.]/g, '') + '000';
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(locate);
