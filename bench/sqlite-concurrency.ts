/**
 * sqlite-concurrency: 12 attaches to 12 different parents, each `fromFile` +
 * `generateThumbnail({ width: 256 })` in one managed transaction, all at once against the same
 * 12 one after another, on a SQLite file database as a user creates it (no `retry` option) and
 * the file-system store; in WAL mode and in the default rollback journal. Writers take turns,
 * so at once should take about as long as one after another: the target is at most 1.5x the
 * time (a throughput ratio of at least 0.667).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DataTypes,
  Model,
  Sequelize,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type NonAttribute,
} from 'sequelize';
import {
  FileSystemStore,
  Image,
  imageAttachment,
  imageAttributes,
  imageTransaction,
  type SingleImageSet,
} from '../src/index.js';
import { alternate, report, runStandalone, type Benchmark, type Measurement } from './harness.js';
import { noisyJpeg, tempFolder } from './support/inputs.js';

const ATTACHES = 12;
const JOURNALS = ['wal', 'delete'] as const;

function defineModels(sequelize: Sequelize) {
  class Cover extends Image<InferAttributes<Cover>, InferCreationAttributes<Cover>> {
    declare bookId: number;
  }
  class Book extends Model<InferAttributes<Book>, InferCreationAttributes<Book>> {
    declare id: CreationOptional<number>;
    declare readonly cover: NonAttribute<SingleImageSet<Cover>>;
  }
  Book.init(
    { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
    { sequelize, tableName: 'book' },
  );
  Cover.init(
    { bookId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: 'cover' },
  );
  imageAttachment(Book, 'cover', Cover, { foreignKey: 'bookId' });
  return Book;
}

async function compare(journal: (typeof JOURNALS)[number], folder: string): Promise<boolean> {
  const sequelize = new Sequelize({
    dialect: 'sqlite',
    storage: join(folder, `${journal}.sqlite`),
    logging: false,
  });
  try {
    const Book = defineModels(sequelize);
    await sequelize.query(`PRAGMA journal_mode=${journal}`);
    await sequelize.sync({ force: true });
    const store = new FileSystemStore({ path: join(folder, journal), baseUrl: 'http://x/' });
    const inputs = await Promise.all(
      Array.from({ length: ATTACHES }, async (_, i) => {
        const path = join(folder, `${journal}-${i}.jpg`);
        await writeFile(path, await noisyJpeg(1200 + i * 8, 900));
        return path;
      }),
    );
    const attach = async (path: string) => {
      const book = await Book.create();
      await imageTransaction(sequelize, async (transaction) => {
        await book.cover.fromFile(path, { store, transaction });
        await book.cover.generateThumbnail({ width: 256 }, { store, transaction });
      });
    };
    const timed = async (run: () => Promise<unknown>): Promise<Measurement> => {
      const start = process.hrtime.bigint();
      await run();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      return { value: ATTACHES / seconds, extra: { seconds } };
    };
    const comparison = await alternate({
      name: `12 attaches at once vs one after another, SQLite ${journal} journal`,
      unit: 'attaches/s',
      ours: () => timed(() => Promise.all(inputs.map(attach))),
      baseline: () =>
        timed(async () => {
          for (const path of inputs) await attach(path);
        }),
    });
    const times = comparison.ratios.map((ratio) => 1 / ratio).sort((a, b) => a - b);
    console.log(
      `  at once / one after another, time: ${times.map((t) => t.toFixed(2)).join(', ')}`,
    );
    return report(comparison, {
      minRatio: 1 / 1.5,
      description: 'at once <= 1.5x the time (>= 0.667 of the throughput)',
    });
  } finally {
    await sequelize.close();
  }
}

export const sqliteConcurrency: Benchmark = {
  name: 'sqlite-concurrency',
  description: `${ATTACHES} attaches (fromFile + 256 px thumbnail) at once vs one after another on SQLite`,
  async run() {
    const folder = await tempFolder('bench-sqlite-concurrency');
    try {
      let met = true;
      for (const journal of JOURNALS) met = (await compare(journal, folder.path)) && met;
      return met;
    } finally {
      await folder.remove();
    }
  },
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(sqliteConcurrency);
