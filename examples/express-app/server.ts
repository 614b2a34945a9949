/**
 * `npm start`: the example app from the environment (see config.ts). Creates and seeds the
 * database on first start, then serves on PORT and prints the URL.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sequelize } from 'sequelize';
import { ImageAttachError, recoverStagedFiles, storeFromUrl } from '../../src/index.js';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type AppConfig } from './config.js';
import { isNewDatabase, openDatabase, redactUrl } from './database.js';
import { defineModels } from './models.js';
import { seed } from './seed.js';
import { startWorker, type RunningWorker } from './worker.js';

async function start(
  config: AppConfig,
): Promise<{ server: Server; sequelize: Sequelize; worker: RunningWorker | undefined }> {
  const store = await storeFromUrl(config.storeUrl);
  const { sequelize, description } = await openDatabase(config);
  const models = defineModels(sequelize);
  const fresh = await isNewDatabase(sequelize);
  await sequelize.sync();
  if (fresh) {
    console.log('First start: adding a few people and an album…');
    await seed(sequelize, models, store);
  }
  // A crash between a commit and the copy of a replaced image's new bytes leaves them staged;
  // put them in place before serving (see the README's Models section).
  if (store.listFiles !== undefined) {
    const recovered = await recoverStagedFiles({ sequelize, store });
    if (recovered.recovered.length > 0) {
      console.log(`Recovered ${recovered.recovered.length} image file(s) staged before a crash.`);
    }
  }
  // PostgreSQL: thumbnails are made after each upload by a worker in this process.
  const worker =
    sequelize.getDialect() === 'postgres' && config.databaseUrl !== undefined
      ? await startWorker(sequelize, store, config.databaseUrl)
      : undefined;
  const app = createApp({
    sequelize,
    models,
    store,
    storeUrl: config.storeUrl,
    adminPassword: config.adminPassword,
    ...(worker === undefined ? {} : { jobs: worker.jobs }),
  });
  const server = app.listen(config.port);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve).once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  // One write, so that whoever reads the output sees every line at once.
  console.log(
    [
      `Framehouse (sequelize-imageattach example) at http://localhost:${port}/`,
      `  database: ${description}`,
      `  images:   ${redactUrl(config.storeUrl)}`,
      worker === undefined
        ? '  thumbnails: made in the upload request'
        : '  thumbnails: made after each upload by the in-process worker (pg-boss)',
      config.adminPassword === undefined
        ? '  admin:    disabled (set ADMIN_PASSWORD to enable /admin)'
        : `  admin:    http://localhost:${port}/admin`,
    ].join('\n'),
  );
  return { server, sequelize, worker };
}

try {
  const { server, sequelize, worker } = await start(loadConfig());
  const shutdown = () => {
    server.close(() => {
      void (worker?.stop() ?? Promise.resolve()).finally(() => sequelize.close());
    });
    // Event streams (the admin's migration progress) would keep the server open.
    server.closeAllConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} catch (error) {
  // Settings mistakes get one line; anything else its stack.
  const known = error instanceof ConfigError || error instanceof ImageAttachError;
  console.error(`Framehouse cannot start: ${known ? error.message : ''}`);
  if (!known) console.error(error);
  process.exitCode = 1;
}
