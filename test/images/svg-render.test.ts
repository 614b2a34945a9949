/**
 * SVGs are rendered only from memory: read by path, librsvg resolves an SVG's relative
 * references against its folder, where staged uploads sit side by side. The control shows
 * that it does (a neighbouring PNG is drawn); thumbnails of the same file given by path draw
 * nothing from it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DecodedImage, renderThumbnail } from '../../src/images/thumbnail.js';
import { makeTempDir } from '../support/temp-dir.js';

let dir: { path: string; remove: () => Promise<void> };
let svgPath: string;

beforeAll(async () => {
  dir = await makeTempDir('svg-render');
  await sharp({ create: { width: 10, height: 10, channels: 3, background: '#ff0000' } })
    .png()
    .toFile(join(dir.path, 'neighbour.png'));
  svgPath = join(dir.path, 'drawing.svg');
  await writeFile(
    svgPath,
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' +
      '<image href="neighbour.png" width="10" height="10"/></svg>',
  );
});

afterAll(async () => {
  await dir.remove();
});

/** The first pixel as RGBA. */
async function firstPixel(png: Buffer): Promise<number[]> {
  return [...(await sharp(png).ensureAlpha().raw().toBuffer()).subarray(0, 4)];
}

it('control: sharp given the path draws the neighbouring file', async () => {
  expect(await firstPixel(await sharp(svgPath).png().toBuffer())).toEqual([255, 0, 0, 255]);
});

it('renderThumbnail reads an SVG path into memory first: nothing of the neighbour drawn', async () => {
  const thumbnail = await renderThumbnail(svgPath, 'image/svg+xml', 10, 10);
  expect(thumbnail.mimetype).toBe('image/png');
  expect(await firstPixel(thumbnail.data)).toEqual([0, 0, 0, 0]);
});

it('DecodedImage.decode reads an SVG path into memory first, too', async () => {
  const decoded = await DecodedImage.decode(svgPath, 'image/svg+xml');
  const thumbnail = await decoded.render(10, 10);
  expect(await firstPixel(thumbnail.data)).toEqual([0, 0, 0, 0]);
});
