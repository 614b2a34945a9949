/**
 * The example app's entry point: `npm start`. For now it serves a file-system store; the full
 * app (users, albums, uploads, admin) is built in examples/express-app by a later issue.
 */
import express from 'express';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { HttpExposedFileSystemStore } from '../../src/index.js';

const imagesPath = resolve(process.env.IMAGES_PATH ?? 'var/images');
mkdirSync(imagesPath, { recursive: true });
const store = new HttpExposedFileSystemStore({ path: imagesPath });

const app = express();
app.use(store.middleware());
app.get('/', (_req, res) => {
  res
    .type('html')
    .send('<!doctype html><title>sequelize-imageattach</title><h1>sequelize-imageattach</h1>');
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`sequelize-imageattach example app: http://localhost:${actual}/`);
});
