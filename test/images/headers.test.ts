/**
 * Our own header read: the canvas, frames and metadata sizes that sharp does not report, from
 * a path (read through a window) and from bytes alike.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageHeaders } from '../../src/images/headers.js';
import type { ImageFormat } from '../../src/images/magic.js';
import {
  animatedWebp,
  apngDeclaring,
  gifOfFrames,
  gifOnScreen,
  jpegWithIcc,
  pngClaiming,
} from '../reliability/hostile-files.js';
import { makeTempDir } from '../support/temp-dir.js';

const LIMITS = { maxFrames: 100, maxMetadataSize: 1024 * 1024 };
let tmp: { path: string; remove: () => Promise<void> };
beforeAll(async () => {
  tmp = await makeTempDir('headers');
});
afterAll(async () => {
  await tmp.remove();
});

/** Reads `bytes` both ways and checks that they agree. */
async function headersOf(bytes: Buffer, format: ImageFormat) {
  const path = join(tmp.path, `x.${format}`);
  await writeFile(path, bytes);
  const fromFile = await readImageHeaders(path, format, LIMITS);
  expect(await readImageHeaders(bytes, format, LIMITS)).toEqual(fromFile);
  return fromFile;
}

const noMetadata = { icc: 0, exif: 0, xmp: 0 };

describe('readImageHeaders', () => {
  it("reads a GIF's logical screen, not only its frames", async () => {
    expect(await headersOf(gifOnScreen(16_000, 16_000), 'gif')).toEqual({
      area: 256_000_000,
      frames: 1,
      ...noMetadata,
    });
  });

  it("counts a GIF frame's reach beyond its screen", async () => {
    expect((await headersOf(gifOnScreen(10, 10, 1, 999, 9), 'gif'))?.area).toBe(1000 * 10);
  });

  it('counts GIF frames, stopping one past maxFrames', async () => {
    expect((await headersOf(gifOnScreen(20, 20, 7), 'gif'))?.frames).toBe(7);
    expect((await headersOf(gifOfFrames(10_000), 'gif'))?.frames).toBe(101);
  });

  it("reads an APNG's acTL frame count and an IHDR's size", async () => {
    expect(await headersOf(apngDeclaring(3, 2, 1_000_000), 'png')).toEqual({
      area: 6,
      frames: 1_000_000,
      ...noMetadata,
    });
    expect((await headersOf(pngClaiming(20_000, 20_000), 'png'))?.area).toBe(400_000_000);
  });

  it("reads an animated WebP's canvas and frames", async () => {
    expect(await headersOf(await animatedWebp(7000, 7000, 100), 'webp')).toEqual({
      area: 49_000_000,
      frames: 100,
      ...noMetadata,
    });
  });

  it('reads still JPEG, PNG and WebP sizes', async () => {
    const still = sharp({ create: { width: 30, height: 20, channels: 3, background: '#333' } });
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const bytes = await still.clone().toFormat(format).toBuffer();
      expect(await headersOf(bytes, format), format).toEqual({
        area: 600,
        frames: 1,
        ...noMetadata,
      });
    }
    const lossless = await still.clone().webp({ lossless: true }).toBuffer();
    expect((await headersOf(lossless, 'webp'))?.area).toBe(600);
  });

  it('adds up the segments of a JPEG ICC profile', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#333' } })
      .jpeg()
      .toBuffer();
    expect((await headersOf(jpegWithIcc(jpeg, 200_000), 'jpeg'))?.icc).toBe(200_000);
  });

  it("measures sharp's own ICC, EXIF and XMP as it writes them", async () => {
    const image = sharp({ create: { width: 8, height: 8, channels: 3, background: '#333' } })
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: 'x'.repeat(5000) } })
      .withXmp(`<x:xmpmeta xmlns:x="adobe:ns:meta/">${' '.repeat(7000)}</x:xmpmeta>`);
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const bytes = await image.clone().toFormat(format).toBuffer();
      const metadata = await sharp(bytes).metadata();
      const headers = await headersOf(bytes, format);
      expect(headers?.icc, format).toBe(metadata.icc?.length);
      expect(headers?.exif, format).toBeGreaterThanOrEqual(metadata.exif?.length ?? 0);
      expect(headers?.xmp, format).toBeGreaterThanOrEqual(metadata.xmp?.length ?? 0);
      expect(headers?.xmp, format).toBeGreaterThan(7000);
    }
  });

  it('leaves AVIF and SVG to sharp', async () => {
    expect(await readImageHeaders(Buffer.from('<svg/>'), 'svg', LIMITS)).toBeUndefined();
  });
});
