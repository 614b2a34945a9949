/**
 * On PostgreSQL, the example app makes thumbnails off the request: `imageJobs` on pg-boss, and a
 * worker in the same process (a bigger deployment runs `npx sequelize-imageattach worker` on
 * other machines instead, with the same models).
 */
import PgBoss from 'pg-boss';
import type { Sequelize } from 'sequelize';
import type { Store } from '../../src/index.js';
import { imageJobs, type ImageJobs } from '../../src/jobs.js';

export interface RunningWorker {
  jobs: ImageJobs;
  /** Lets the running job end, then closes pg-boss's connections. */
  stop(): Promise<void>;
}

export async function startWorker(
  sequelize: Sequelize,
  store: Store,
  databaseUrl: string,
): Promise<RunningWorker> {
  const boss = new PgBoss(databaseUrl);
  boss.on('error', (error) => console.error('pg-boss:', error));
  const jobs = imageJobs({ boss, sequelize, store });
  await jobs.work({ concurrency: 1 });
  return {
    jobs,
    stop: async () => {
      await jobs.stop();
      await boss.stop({ graceful: false });
    },
  };
}
