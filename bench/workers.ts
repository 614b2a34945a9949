/**
 * Workers: thumbnails made later (`generateThumbnailsLater`, pg-boss) by two worker processes,
 * one job at a time each, against one worker process, on PostgreSQL (DATABASE_URL). Each round
 * sends a batch of jobs in one transaction to workers already polling, and times the batch from
 * the commit until the queue is drained. The workers share the machine's cores with PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import PgBoss from 'pg-boss';
import { Sequelize } from 'sequelize';
import { FileSystemStore } from '../src/index.js';
import { imageJobs, type ImageJobs } from '../src/jobs.js';
import { alternate, checkTarget, report, runStandalone, type Benchmark } from './harness.js';
import { noisyJpeg, tempFolder } from './support/inputs.js';

const JOBS = Number(process.env.BENCH_WORKERS_JOBS ?? 40);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const workers: Benchmark = {
  name: 'workers',
  description: `${JOBS} thumbnail jobs (2 sizes of a 1600x1200 JPEG): 2 worker processes vs 1`,
  async run() {
    const adminUrl = process.env.DATABASE_URL;
    if (adminUrl === undefined || adminUrl === '') {
      console.log('DATABASE_URL is not set: pg-boss needs PostgreSQL; nothing measured.');
      return true;
    }
    const name = `bench_workers_${process.pid}`;
    const admin = new Sequelize(adminUrl, { logging: false });
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    process.env.DATABASE_URL = url.toString();
    const folder = await tempFolder('bench-workers');
    const children: ChildProcess[] = [];
    let boss: PgBoss | undefined;
    let sequelize: Sequelize | undefined;
    try {
      const { Book, sequelize: own } = await import('./support/jobs-models.js');
      sequelize = own;
      await sequelize.sync({ force: true });
      const store = new FileSystemStore({ path: join(folder.path, 'store'), baseUrl: 'http://x/' });
      const photo = await noisyJpeg(1600, 1200, 85);
      const books: Array<InstanceType<typeof Book>> = [];
      for (let i = 0; i < JOBS; i += 1) {
        const book = await Book.create();
        await book.cover.fromBlob(photo, { store });
        books.push(book);
      }
      boss = new PgBoss({ connectionString: url.toString(), max: 2 });
      boss.on('error', (error) => console.error('pg-boss:', error));
      // One queue per side, so that each side's workers only take its jobs.
      const one = imageJobs({ boss, sequelize, store, queuePrefix: 'bench-one' });
      const two = imageJobs({ boss, sequelize, store, queuePrefix: 'bench-two' });
      await one.ready();
      await two.ready();
      const storeUrl = `${pathToFileURL(join(folder.path, 'store')).href}?baseUrl=http://x/`;
      const start = (prefix: string) => children.push(worker(url.toString(), storeUrl, prefix));
      start('bench-one');
      start('bench-two');
      start('bench-two');

      let width = 200;
      const batch = async (jobs: ImageJobs) => {
        // New widths each batch: a size that exists would make the job a no-op.
        const sizes = [{ width: (width += 2) }, { width: width + 1 }];
        const began = process.hrtime.bigint();
        await sequelize!.transaction(async (transaction) => {
          for (const book of books) {
            await book.cover.generateThumbnailsLater(sizes, { transaction, jobs });
          }
        });
        const queue = jobs.queueName('thumbnails');
        while ((await boss!.getQueueSize(queue, { before: 'completed' })) > 0) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        return { value: JOBS / (Number(process.hrtime.bigint() - began) / 1e9) };
      };
      const load = os.loadavg();
      const comparison = await alternate({
        name: 'thumbnail jobs, 2 workers vs 1',
        unit: 'jobs/s',
        ours: () => batch(two),
        baseline: () => batch(one),
      });
      const met = report(comparison, { minRatio: 1.5, description: '>= 1.5x one worker' });
      const after = os.loadavg();
      checkTarget({
        name: 'load average (1 min) before and after',
        figure: `${load[0]!.toFixed(1)} / ${after[0]!.toFixed(1)} on ${os.cpus().length} cores`,
        target: 'recorded',
        met: true,
      });
      return met;
    } finally {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((child) => once(child, 'exit')));
      await boss?.stop({ graceful: false });
      await sequelize?.close();
      await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.close();
      await folder.remove();
    }
  },
};

/** A `sequelize-imageattach worker` process, one job at a time, polling often. */
function worker(databaseUrl: string, storeUrl: string, prefix: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli.ts', 'worker', '--quiet'],
      ...['--models', 'bench/support/jobs-models.ts', '--store', storeUrl],
      ...['--database', databaseUrl, '--queue-prefix', prefix, '--poll-interval', '20'],
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(workers);
