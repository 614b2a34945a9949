/**
 * Run by bench/upload-memory.ts in a process of its own, so nothing else moves its peak RSS:
 * posts a file through `uploadImage` + `attachImage` over loopback, both ends in this process,
 * and prints one line of JSON with the peak RSS growth.
 * Usage: node --import tsx upload-memory-child.ts <file> <folder>
 */
import { stat } from 'node:fs/promises';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import sharp from 'sharp';
import { attachImage, FileSystemStore, uploadImage } from '../../src/index.js';
import { Album, openDatabase } from './models.js';
import { postFile } from './multipart.js';

const [file, folder] = process.argv.slice(2) as [string, string];
const MiB = 1024 * 1024;

const sequelize = await openDatabase(folder);
const store = new FileSystemStore({ path: join(folder, 'store'), baseUrl: 'http://x/' });
const app = express();
app.post(
  '/albums/:id/photo',
  uploadImage({
    field: 'photo',
    tmpDir: folder,
    maxFileSize: 512 * MiB,
    maxPixels: 200_000_000,
    formats: ['png', 'jpeg'],
  }),
  attachImage({ to: async (req) => (await Album.findByPk(Number(req.params.id)))?.photo, store }),
  (_req, res) => {
    const image = res.locals.image as { url: string; width: number; height: number };
    res.json({ url: image.url, width: image.width, height: image.height });
  },
);
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;
const agent = new Agent({ keepAlive: true });
const album = await Album.create();
const url = `http://127.0.0.1:${port}/albums/${album.id}/photo`;

// Warm up: load every module and run every code path once on a small image of the same type.
const small = join(folder, 'small.png');
await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123' } })
  .png()
  .toFile(small);
const warm = await postFile(url, { field: 'photo', filename: 'small.png', content: small }, agent);
if (warm.status !== 200) throw new Error(`warm-up upload failed: ${warm.status} ${warm.body}`);

const baselineRss = process.memoryUsage().rss;
const start = process.hrtime.bigint();
const result = await postFile(url, { field: 'photo', filename: 'big.png', content: file }, agent);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const peakRss = process.resourceUsage().maxRSS * 1024;

const photo = await album.photo.original();
const stored =
  photo === null
    ? undefined
    : await store.statFile(
        photo.objectType,
        photo.objectId,
        photo.width,
        photo.height,
        photo.mimetype,
      );
agent.destroy();
server.close();
await sequelize.close();
process.stdout.write(
  JSON.stringify({
    status: result.status,
    body: result.body,
    bytes: (await stat(file)).size,
    storedBytes: stored?.size ?? 0,
    seconds,
    baselineRss,
    peakRss,
    growth: peakRss - baselineRss,
  }) + '\n',
);
