/** Inputs the benchmarks make for themselves: nothing large is committed. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export async function tempFolder(
  label: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * A photo-like JPEG: smooth gradients with noise, so that it costs what a photo costs to
 * decode, unlike a flat colour.
 */
export async function noisyJpeg(width: number, height: number, quality = 85): Promise<Buffer> {
  const noise = randomBytes(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const i = (y * width + x) * 3;
      // Blend a gradient in, so the noise reads as texture on a photo rather than pure static.
      noise[i] = ((noise[i] as number) >> 2) + Math.floor((x / width) * 190);
      noise[i + 1] = ((noise[i + 1] as number) >> 2) + Math.floor((y / height) * 190);
      noise[i + 2] = ((noise[i + 2] as number) >> 2) + 96;
    }
  }
  return sharp(noise, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** A JPEG of roughly `size` bytes: noise compresses poorly, so its size follows its area. */
export async function jpegNear(size: number): Promise<Buffer> {
  let side = Math.round(Math.sqrt(size / 1.2));
  for (;;) {
    const bytes = await noisyJpeg(side, Math.round(side * 0.75));
    if (bytes.length >= size * 0.9 || side > 8000) return bytes;
    side = Math.round(side * Math.sqrt(size / bytes.length));
  }
}
