/**
 * Sample uploads, made with sharp in the test run, and helpers to look at a temporary folder.
 */
import { readdir } from 'node:fs/promises';
import sharp from 'sharp';

export interface Samples {
  jpeg: Buffer;
  png: Buffer;
  webp: Buffer;
  avif: Buffer;
  gif: Buffer;
  /** A three-frame animated GIF, 40×30. */
  animatedGif: Buffer;
  tiff: Buffer;
  svg: Buffer;
  /** A JPEG cut at 60 %. */
  truncatedJpeg: Buffer;
  /** A PNG cut at 60 %. */
  truncatedPng: Buffer;
  /** A PNG whose compressed data is scrambled, with its end intact. */
  corruptPng: Buffer;
  text: Buffer;
}

const noise = (width: number, height: number) =>
  sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  });

export async function makeSamples(): Promise<Samples> {
  const jpeg = await noise(64, 48).jpeg().toBuffer();
  const png = await noise(64, 48).png().toBuffer();
  const frames = await Promise.all(
    [10, 100, 200].map((red) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background: { r: red, g: 0, b: 0 } } })
        .png()
        .toBuffer(),
    ),
  );
  const corruptPng = Buffer.from(png);
  const idat = corruptPng.indexOf('IDAT');
  for (let i = idat + 20; i < idat + 60; i += 1) corruptPng[i]! ^= 0x55;
  return {
    jpeg,
    png,
    webp: await noise(64, 48).webp().toBuffer(),
    avif: await noise(64, 48).avif().toBuffer(),
    gif: await noise(64, 48).gif().toBuffer(),
    animatedGif: await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer(),
    tiff: await noise(64, 48).tiff().toBuffer(),
    svg: Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">' +
        '<rect width="20" height="10" fill="red"/></svg>',
    ),
    truncatedJpeg: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
    truncatedPng: png.subarray(0, Math.floor(png.length * 0.6)),
    corruptPng,
    text: Buffer.from('this is not an image, whatever its name says\n'.repeat(20)),
  };
}

/** The entries of a folder, sorted. */
export async function listDir(path: string): Promise<string[]> {
  return (await readdir(path)).sort();
}
