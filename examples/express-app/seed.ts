/**
 * The data of a first start: a few people with pictures and an album of photos, all drawn
 * by sharp from SVG (no downloaded assets), stored with the thumbnails the pages use.
 */
import sharp from 'sharp';
import type { Sequelize } from 'sequelize';
import { imageTransaction, type Store } from '../../src/index.js';
import type { Models } from './models.js';
import { PHOTO_FORMATS, PHOTO_THUMBNAILS, USER_THUMBNAILS } from './sizes.js';

const PEOPLE: ReadonlyArray<{ name: string; hues: [number, number] | null }> = [
  { name: 'Mina Park', hues: [205, 265] },
  { name: 'Jonas Weber', hues: [20, 345] },
  { name: 'Amara Okafor', hues: [150, 95] },
  { name: 'Luis Ortega', hues: null },
];

/** Sky, sun and three ridges per photo: [sky top, sky bottom, sun, far, middle, near]. */
const LANDSCAPES: ReadonlyArray<readonly string[]> = [
  ['#1e3a8a', '#f59e0b', '#fde68a', '#6d28d9', '#4c1d95', '#1e1b4b'],
  ['#0ea5e9', '#e0f2fe', '#fef9c3', '#64748b', '#334155', '#0f172a'],
  ['#7c2d12', '#fdba74', '#fff7ed', '#9a3412', '#7c2d12', '#431407'],
  ['#134e4a', '#99f6e4', '#f0fdfa', '#0f766e', '#115e59', '#042f2e'],
  ['#312e81', '#c4b5fd', '#ede9fe', '#5b21b6', '#3b0764', '#1e1b4b'],
];

export async function seed(sequelize: Sequelize, models: Models, store: Store): Promise<void> {
  for (const person of PEOPLE) {
    const user = await models.User.create({ name: person.name });
    if (person.hues === null) continue;
    const blob = await portrait(person.hues[0], person.hues[1]);
    await imageTransaction(sequelize, async (transaction) => {
      await user.picture.fromBlob(blob, { store, transaction });
      await user.picture.generateThumbnails(USER_THUMBNAILS, { store, transaction });
    });
  }
  const album = await models.Album.create({ title: 'Ridgelines', nextPosition: LANDSCAPES.length });
  for (const [position, colours] of LANDSCAPES.entries()) {
    const blob = await landscape(colours, position);
    const set = album.photos.getImageSet({ position });
    await imageTransaction(sequelize, async (transaction) => {
      await set.fromBlob(blob, { store, transaction });
      await set.generateThumbnails(PHOTO_THUMBNAILS, {
        store,
        transaction,
        formats: PHOTO_FORMATS,
      });
    });
  }
}

/** A head-and-shoulders silhouette on a diagonal gradient, 600 × 600 PNG. */
function portrait(from: number, to: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="hsl(${from},70%,62%)"/><stop offset="1" stop-color="hsl(${to},60%,38%)"/>
    </linearGradient></defs>
    <rect width="600" height="600" fill="url(#g)"/>
    <circle cx="300" cy="245" r="112" fill="hsl(${from},60%,92%)" fill-opacity="0.9"/>
    <path d="M90 600c0-125 94-205 210-205s210 80 210 205z" fill="hsl(${from},60%,92%)" fill-opacity="0.9"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Layered ridges under a sky with a sun, 1200 × 800 JPEG; `seed` varies the shapes. */
function landscape(colours: readonly string[], seed: number): Promise<Buffer> {
  const [skyTop, skyBottom, sun, far, middle, near] = colours;
  const ridge = (base: number, amplitude: number, phase: number) => {
    const points: string[] = [];
    for (let x = 0; x <= 1200; x += 60) {
      const y =
        base +
        Math.sin((x / 1200) * Math.PI * 2 + phase) * amplitude +
        Math.sin((x / 1200) * Math.PI * 5 + phase * 2) * amplitude * 0.35;
      points.push(`${x},${y.toFixed(1)}`);
    }
    return `M0,800 L${points.join(' L')} L1200,800 Z`;
  };
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="${skyTop}"/><stop offset="1" stop-color="${skyBottom}"/>
    </linearGradient></defs>
    <rect width="1200" height="800" fill="url(#sky)"/>
    <circle cx="${300 + seed * 150}" cy="${300 - seed * 12}" r="90" fill="${sun}"/>
    <path d="${ridge(430, 60, seed)}" fill="${far}" fill-opacity="0.85"/>
    <path d="${ridge(530, 50, seed + 1.7)}" fill="${middle}"/>
    <path d="${ridge(640, 35, seed + 3.1)}" fill="${near}"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 86 }).toBuffer();
}
