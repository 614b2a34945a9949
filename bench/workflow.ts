/**
 * The original's workflow, as a user runs it: create a parent, `fromFile(path of a 12 MP
 * JPEG)`, `generateThumbnail({ width: 256 })`, each call committing on its own, on a SQLite
 * file database (WAL, then SQLite's default rollback journal) and a file-system store. Against
 * raw sharp (`copyFile` + `sharp(path).resize().toFile()`), and against raw sharp with the same
 * durability (both files fsynced, one INSERT + COMMIT each); then each call on its own against
 * the raw steps it stands for.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Sequelize } from 'sequelize';
import { FileSystemStore } from '../src/index.js';
import { alternate, report, runStandalone, type Benchmark } from './harness.js';
import { noisyJpeg, tempFolder } from './support/inputs.js';
import { Album, openDatabase } from './support/models.js';

const PER_ROUND = Number(process.env.BENCH_WORKFLOW_PER_ROUND ?? 8);
const WIDTH = 256;

export const workflow: Benchmark = {
  name: 'workflow',
  description: `create + fromFile(path) + generateThumbnail({ width: ${WIDTH} }) vs raw sharp`,
  async run() {
    const folder = await tempFolder('bench-workflow');
    const sequelize = await openDatabase(folder.path);
    await sequelize.query('CREATE TABLE raw_image (key TEXT PRIMARY KEY, width INT, height INT)');
    const durable = new FileSystemStore({
      path: join(folder.path, 'durable'),
      baseUrl: 'http://x/',
    });
    const fast = new FileSystemStore({
      path: join(folder.path, 'fast'),
      baseUrl: 'http://x/',
      fsync: false,
    });
    const outputs = join(folder.path, 'raw');
    await mkdir(outputs, { recursive: true });
    const inputs = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const path = join(folder.path, `input-${i}.jpg`);
        await writeFile(path, await noisyJpeg(4000, 3000, 85));
        return path;
      }),
    );
    const pick = (i: number) => inputs[i % inputs.length] as string;
    const rate = async (step: (i: number) => Promise<void>) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < PER_ROUND; i += 1) await step(i);
      return { value: PER_ROUND / (Number(process.hrtime.bigint() - start) / 1e9) };
    };
    const ours = (store: FileSystemStore) => () =>
      rate(async (i) => {
        const album = await Album.create();
        await album.photo.fromFile(pick(i), { store });
        await album.photo.generateThumbnail({ width: WIDTH }, { store });
      });
    const raw = () =>
      rate(async (i) => {
        const id = randomUUID();
        await copyFile(pick(i), join(outputs, `${id}.jpg`));
        await sharp(pick(i))
          .resize({ width: WIDTH })
          .toFile(join(outputs, `${id}.256.jpg`));
      });
    const rawDurable = () =>
      rate(async (i) => {
        const id = randomUUID();
        const original = join(outputs, `${id}.jpg`);
        await copyFile(pick(i), original);
        await fsyncFile(original);
        await insert(sequelize, id, 4000, 3000);
        const thumbnail = join(outputs, `${id}.256.jpg`);
        const info = await sharp(pick(i)).resize({ width: WIDTH }).toFile(thumbnail);
        await fsyncFile(thumbnail);
        await insert(sequelize, `${id}.256`, info.width, info.height);
      });

    try {
      let met = true;
      for (const mode of ['WAL', 'DELETE'] as const) {
        await sequelize.query(`PRAGMA journal_mode=${mode}`);
        console.log(`\n## SQLite journal_mode=${mode}`);
        if (mode === 'WAL') {
          if (
            !report(
              await alternate({
                name: 'workflow WAL, fsync: false vs raw sharp',
                unit: 'images/s',
                ours: ours(fast),
                baseline: raw,
              }),
              { minRatio: 0.8, description: '>= 0.80 of raw sharp' },
            )
          ) {
            met = false;
          }
          if (
            !report(
              await alternate({
                name: 'workflow WAL, fsync on vs raw sharp',
                unit: 'images/s',
                ours: ours(durable),
                baseline: raw,
              }),
              { minRatio: 0.7, description: '>= 0.70 of raw sharp' },
            )
          ) {
            met = false;
          }
        }
        if (
          !report(
            await alternate({
              name: `workflow ${mode}, fsync on vs raw sharp with the same durability`,
              unit: 'images/s',
              ours: ours(durable),
              baseline: rawDurable,
            }),
            { minRatio: 0.9, description: '>= 0.90 of durable raw sharp' },
          )
        ) {
          met = false;
        }
      }
      await sequelize.query('PRAGMA journal_mode=WAL');
      console.log('\n## each call against the raw steps it stands for (WAL, fsync on)');
      met = (await perStep(sequelize, durable, inputs, outputs)) && met;
      return met;
    } finally {
      await sequelize.close();
      await folder.remove();
    }
  },
};

/** fromFile and generateThumbnail each timed alone, against their raw steps. */
async function perStep(
  sequelize: Sequelize,
  store: FileSystemStore,
  inputs: string[],
  outputs: string,
): Promise<boolean> {
  const pick = (i: number) => inputs[i % inputs.length] as string;
  /** Fresh parents for each round (with an original when asked), made before the clock starts. */
  const parents = async (withOriginal: boolean) => {
    const albums: Album[] = [];
    for (let i = 0; i < PER_ROUND; i += 1) {
      const album = await Album.create();
      if (withOriginal) await album.photo.fromFile(pick(i), { store });
      albums.push(album);
    }
    return albums;
  };
  const timed = async (step: (i: number) => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < PER_ROUND; i += 1) await step(i);
    return { value: PER_ROUND / (Number(process.hrtime.bigint() - start) / 1e9) };
  };
  const fromFile = await alternate({
    name: 'fromFile(path)',
    unit: 'calls/s',
    ours: async () => {
      const albums = await parents(false);
      return timed((i) => albums[i]!.photo.fromFile(pick(i), { store }));
    },
    baseline: () =>
      timed(async (i) => {
        const id = randomUUID();
        const target = join(outputs, `${id}.jpg`);
        await copyFile(pick(i), target);
        await fsyncFile(target);
        const { width, height } = await sharp(pick(i)).metadata();
        await insert(sequelize, id, width, height);
      }),
  });
  // A ratio of rates: "within 1.3x of the time" is a rate at least 1/1.3 of the baseline's.
  const fromFileMet = report(fromFile, {
    minRatio: 1 / 1.3,
    description: 'time <= 1.3x (rate >= 0.769)',
  });
  const thumbnail = await alternate({
    name: `generateThumbnail({ width: ${WIDTH} })`,
    unit: 'calls/s',
    ours: async () => {
      const albums = await parents(true);
      return timed((i) => albums[i]!.photo.generateThumbnail({ width: WIDTH }, { store }));
    },
    baseline: () =>
      timed(async (i) => {
        const id = randomUUID();
        const target = join(outputs, `${id}.256.jpg`);
        const info = await sharp(pick(i)).resize({ width: WIDTH }).toFile(target);
        await fsyncFile(target);
        await insert(sequelize, id, info.width, info.height);
      }),
  });
  const thumbnailMet = report(thumbnail, {
    minRatio: 1 / 1.15,
    description: 'time <= 1.15x (rate >= 0.870)',
  });
  return fromFileMet && thumbnailMet;
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function insert(sequelize: Sequelize, key: string, width: number, height: number) {
  await sequelize.transaction(async (transaction) => {
    await sequelize.query('INSERT INTO raw_image (key, width, height) VALUES (?, ?, ?)', {
      replacements: [key, width, height],
      transaction,
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(workflow);
