/**
 * `npm start`: the example app from the environment (see config.ts). Creates and seeds the
 * database on first start, then serves on PORT and prints the URL.
 */
import type { AddressInfo } from 'node:net';
import { storeFromUrl } from '../../src/index.js';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { isNewDatabase, openDatabase, redactUrl } from './database.js';
import { defineModels } from './models.js';
import { seed } from './seed.js';

const config = loadConfig();
const { sequelize, description } = await openDatabase(config);
const models = defineModels(sequelize);
const store = await storeFromUrl(config.storeUrl);
const fresh = await isNewDatabase(sequelize);
await sequelize.sync();
if (fresh) {
  console.log('First start: adding a few people and an album…');
  await seed(sequelize, models, store);
}

const app = createApp({
  sequelize,
  models,
  store,
  storeUrl: config.storeUrl,
  adminPassword: config.adminPassword,
});
const server = app.listen(config.port, () => {
  const { port } = server.address() as AddressInfo;
  console.log(`Framehouse (sequelize-imageattach example) at http://localhost:${port}/`);
  console.log(`  database: ${description}`);
  console.log(`  images:   ${redactUrl(config.storeUrl)}`);
  console.log(
    config.adminPassword === undefined
      ? '  admin:    disabled (set ADMIN_PASSWORD to enable /admin)'
      : `  admin:    http://localhost:${port}/admin`,
  );
});

function shutdown() {
  server.close(() => void sequelize.close());
  // Event streams (the admin's progress) would keep the server open.
  server.closeAllConnections();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
