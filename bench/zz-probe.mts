import { copyFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { FileSystemStore } from '../src/index.js';
import { noisyJpeg, tempFolder } from './support/inputs.js';
import { Album, openDatabase } from './support/models.js';
const folder = await tempFolder('probe');
const sequelize = await openDatabase(folder.path);
const store = new FileSystemStore({ path: join(folder.path, 's'), baseUrl: 'http://x/', fsync: false });
const input = join(folder.path, 'in.jpg');
await writeFile(input, await noisyJpeg(4000, 3000, 85));
await mkdir(join(folder.path, 'raw'));
const sql: string[] = [];
(sequelize as any).options.logging = (q: string, ms: number) => sql.push(`${ms}ms ${q.slice(0, 90)}`);
(sequelize as any).options.benchmark = true;
const acc: Record<string, number[]> = {};
const t = async <T,>(name: string, fn: () => Promise<T>) => { const s = performance.now(); const r = await fn(); (acc[name] ??= []).push(performance.now() - s); return r; };
for (let i = 0; i < 12; i++) {
  sql.length = 0;
  const album = await t('create', () => Album.create());
  await t('fromFile', () => album.photo.fromFile(input, { store }));
  await t('generateThumbnail', () => album.photo.generateThumbnail({ width: 256 }, { store }));
  await t('raw copy', () => copyFile(input, join(folder.path, 'raw', `${i}.jpg`)));
  await t('raw resize', () => sharp(input).resize({ width: 256 }).toFile(join(folder.path, 'raw', `${i}.t.jpg`)));
  if (i === 11) console.log(sql.join('\n'));
}
for (const [k, v] of Object.entries(acc)) { v.sort((a, b) => a - b); console.log(k, v[6]!.toFixed(1)); }
await sequelize.close(); await folder.remove();
