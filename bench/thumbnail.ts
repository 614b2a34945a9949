/**
 * Thumbnails: `generateThumbnail({ width: 256 })` on 12-megapixel JPEG originals, including the
 * row and the store write, against raw sharp reading each file, resizing to the same box and
 * writing the result; and four widths of one original (decoded once) against one raw sharp
 * pipeline per width.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { FileSystemStore } from '../src/index.js';
import { thumbnailDimensions } from '../src/images/thumbnail.js';
import { alternate, report, runStandalone, type Benchmark } from './harness.js';
import { noisyJpeg, tempFolder } from './support/inputs.js';
import { Album, Photo, openDatabase } from './support/models.js';

const ORIGINALS = Number(process.env.BENCH_THUMBNAIL_ORIGINALS ?? 200);
/** Each round thumbnails the next slice of the originals, so the 200 are spread over the run. */
const PER_ROUND = Number(process.env.BENCH_THUMBNAIL_PER_ROUND ?? 40);
const SEVERAL_PER_ROUND = Number(process.env.BENCH_THUMBNAIL_SEVERAL_PER_ROUND ?? 10);
const WIDTH = 256;
const SEVERAL = [{ width: 1024 }, { width: 512 }, { width: 256 }, { width: 128 }];

export const thumbnail: Benchmark = {
  name: 'thumbnail',
  description: `generateThumbnail({ width: ${WIDTH} }) on ${ORIGINALS} 12 MP JPEGs vs raw sharp`,
  async run() {
    const folder = await tempFolder('bench-thumbnail');
    const sequelize = await openDatabase(folder.path);
    const store = new FileSystemStore({ path: join(folder.path, 'store'), baseUrl: 'http://x/' });
    try {
      // A few distinct photos, each attached to many albums: decoding cost is what matters.
      const sources = await Promise.all([0, 1, 2, 3].map(() => noisyJpeg(4000, 3000, 85)));
      const inputs = join(folder.path, 'inputs');
      const outputs = join(folder.path, 'outputs');
      await mkdir(inputs, { recursive: true });
      await mkdir(outputs, { recursive: true });
      const albums: Album[] = [];
      for (let i = 0; i < ORIGINALS; i += 1) {
        const bytes = sources[i % sources.length] as Buffer;
        await writeFile(join(inputs, `${i}.jpg`), bytes);
        const album = await Album.create();
        await album.photo.fromFile(bytes, { store });
        albums.push(album);
      }
      console.log(`${ORIGINALS} originals of ${(sources[0] as Buffer).length} bytes attached`);

      const clearThumbnails = async () => {
        for (const photo of await Photo.findAll({ where: { original: false } })) {
          await photo.destroy({ imageStore: store });
        }
      };

      let oursRound = 0;
      let baselineRound = 0;
      const slice = (round: number, size: number) => {
        const start = (round * size) % ORIGINALS;
        return Array.from({ length: size }, (_, i) => (start + i) % ORIGINALS);
      };
      const single = await alternate({
        name: `thumbnail width ${WIDTH}`,
        unit: 'images/s',
        ours: async () => {
          await clearThumbnails();
          const picked = slice(oursRound++, PER_ROUND);
          const start = process.hrtime.bigint();
          for (const i of picked) {
            await (albums[i] as Album).photo.generateThumbnail({ width: WIDTH }, { store });
          }
          return { value: picked.length / seconds(start) };
        },
        baseline: async () => {
          const picked = slice(baselineRound++, PER_ROUND);
          const start = process.hrtime.bigint();
          for (const i of picked) {
            const input = await readFile(join(inputs, `${i}.jpg`));
            const { width, height } = thumbnailDimensions(
              { width: 4000, height: 3000 },
              { width: WIDTH },
            );
            await sharp(input)
              .resize(width, height, { fit: 'fill' })
              .jpeg()
              .toFile(join(outputs, `${i}.${width}x${height}.jpg`));
          }
          return { value: picked.length / seconds(start) };
        },
      });
      const singleMet = report(single, { minRatio: 0.9, description: '>= 0.90 of raw sharp' });

      const count = Math.min(ORIGINALS, SEVERAL_PER_ROUND);
      const several = await alternate({
        name: `${SEVERAL.length} thumbnails of one original`,
        unit: 'originals/s',
        ours: async () => {
          await clearThumbnails();
          const start = process.hrtime.bigint();
          for (const album of albums.slice(0, count)) {
            await album.photo.generateThumbnails(SEVERAL, { store });
          }
          return { value: count / seconds(start) };
        },
        baseline: async () => {
          const start = process.hrtime.bigint();
          for (let i = 0; i < count; i += 1) {
            const input = await readFile(join(inputs, `${i}.jpg`));
            for (const size of SEVERAL) {
              const { width, height } = thumbnailDimensions({ width: 4000, height: 3000 }, size);
              await sharp(input)
                .resize(width, height, { fit: 'fill' })
                .jpeg()
                .toFile(join(outputs, `${i}.${width}x${height}.jpg`));
            }
          }
          return { value: count / seconds(start) };
        },
      });
      const severalMet = report(several, {
        minRatio: 1.0,
        description: '>= 1.0 of one raw pipeline per width',
      });
      return singleMet && severalMet;
    } finally {
      await sequelize.close();
      await folder.remove();
    }
  },
};

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(thumbnail);
