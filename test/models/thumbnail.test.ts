import sharp from 'sharp';
import { describe, expect, test, vi } from 'vitest';
import {
  AVIF_EFFORT,
  DecodedImage,
  renderThumbnail,
  thumbnailDimensions,
  thumbnailFormat,
  validateRenderOptions,
  type ThumbnailSize,
} from '../../src/images/thumbnail.js';
import {
  animatedGif,
  jpeg405x640,
  jpegOrientation6,
  pngAlpha,
  svg,
  truncatedJpeg,
  webp,
} from '../fixtures/samples.js';

describe('thumbnailDimensions: the original arithmetic', () => {
  const iu = { width: 405, height: 640 };

  test('height mode truncates the computed width (405x640 at height 320 -> 202x320)', () => {
    expect(thumbnailDimensions(iu, { height: 320 })).toEqual({ width: 202, height: 320 });
  });

  test('width mode computes h * (width / w) and truncates', () => {
    expect(thumbnailDimensions(iu, { width: 100 })).toEqual({
      width: 100,
      height: Math.trunc(640 * (100 / 405)),
    });
    expect(thumbnailDimensions(iu, { width: 100 }).height).toBe(158);
    // The float order matters: 98 * (1 / 49) is 1.9999999999999998, where (98 * 1) / 49
    // would be 2. The original computes the former, so it gets 1.
    expect(thumbnailDimensions({ width: 49, height: 98 }, { width: 1 })).toEqual({
      width: 1,
      height: 1,
    });
  });

  test('ratio mode scales both sides and truncates', () => {
    expect(thumbnailDimensions(iu, { ratio: 0.5 })).toEqual({ width: 202, height: 320 });
    expect(thumbnailDimensions(iu, { ratio: 2 })).toEqual({ width: 810, height: 1280 });
    expect(thumbnailDimensions(iu, { ratio: 1 })).toEqual(iu);
  });

  test('exactly one of width, height or ratio, else TypeError', () => {
    expect(() => thumbnailDimensions(iu, {} as ThumbnailSize)).toThrow(TypeError);
    expect(() =>
      thumbnailDimensions(iu, { width: 10, height: 10 } as unknown as ThumbnailSize),
    ).toThrow(TypeError);
    expect(() =>
      thumbnailDimensions(iu, { width: 10, ratio: 1 } as unknown as ThumbnailSize),
    ).toThrow(TypeError);
    expect(() => thumbnailDimensions(iu, null as unknown as ThumbnailSize)).toThrow(TypeError);
  });

  test('non-integer sides are TypeErrors, sides below 1 RangeErrors', () => {
    expect(() => thumbnailDimensions(iu, { width: 1.5 })).toThrow(TypeError);
    expect(() => thumbnailDimensions(iu, { height: '10' as unknown as number })).toThrow(TypeError);
    expect(() => thumbnailDimensions(iu, { width: 0 })).toThrow(RangeError);
    expect(() => thumbnailDimensions(iu, { height: -3 })).toThrow(RangeError);
  });

  test('ratio must be a finite number above 0', () => {
    expect(() => thumbnailDimensions(iu, { ratio: Number.NaN })).toThrow(TypeError);
    expect(() => thumbnailDimensions(iu, { ratio: Infinity })).toThrow(TypeError);
    expect(() => thumbnailDimensions(iu, { ratio: 0 })).toThrow(RangeError);
    expect(() => thumbnailDimensions(iu, { ratio: -1 })).toThrow(RangeError);
  });

  test('a side that truncates to 0 is a RangeError, not an encoder error', () => {
    expect(() => thumbnailDimensions(iu, { ratio: 0.001 })).toThrow(RangeError);
    expect(() => thumbnailDimensions({ width: 1000, height: 1 }, { width: 10 })).toThrow(
      RangeError,
    );
  });
});

describe('render options', () => {
  test('fit, format and quality are checked', () => {
    for (const [options, option] of [
      [{ fit: 'stretch' as 'fill' }, 'fit'],
      [{ format: 'bmp' as 'png' }, 'format'],
      [{ quality: 0 }, 'quality'],
      [{ quality: 101 }, 'quality'],
      [{ quality: 5.5 }, 'quality'],
    ] as const) {
      expect(() => validateRenderOptions(options)).toThrow(
        expect.objectContaining({ code: 'E_INVALID_OPTION', option }),
      );
    }
    expect(() =>
      validateRenderOptions({ fit: 'cover', format: 'webp', quality: 80 }),
    ).not.toThrow();
  });

  test('thumbnails keep the format, except vectors and unwritable formats become PNG', () => {
    expect(thumbnailFormat('image/jpeg')).toBe('jpeg');
    expect(thumbnailFormat('image/gif')).toBe('gif');
    expect(thumbnailFormat('image/webp')).toBe('webp');
    expect(thumbnailFormat('image/svg+xml')).toBe('png');
    expect(thumbnailFormat('application/pdf')).toBe('png');
    expect(thumbnailFormat('image/heic')).toBe('png');
    expect(thumbnailFormat('image/jpeg', 'webp')).toBe('webp');
  });
});

async function pixel(data: Buffer, x: number, y: number) {
  const { data: raw, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [raw[at], raw[at + 1], raw[at + 2]] as const;
}

describe('the sharp pipeline', () => {
  test('encodes AVIF at effort 2 (sharp’s default, 4, costs seconds a thumbnail)', async () => {
    const avif = vi.spyOn(sharp.prototype, 'avif');
    try {
      const { bytes, mimetype } = await jpeg405x640();
      const thumb = await renderThumbnail(bytes, mimetype, 101, 160, {
        format: 'avif',
        quality: 50,
      });
      expect(avif).toHaveBeenCalledWith({ quality: 50, effort: AVIF_EFFORT });
      expect(AVIF_EFFORT).toBe(2);
      const meta = await sharp(thumb.data).metadata();
      expect([meta.format, meta.compression, meta.width, meta.height]).toEqual([
        'heif',
        'av1',
        101,
        160,
      ]);
    } finally {
      avif.mockRestore();
    }
  });

  test('resizes to the exact box (fill) in the original format', async () => {
    const { bytes, mimetype } = await jpeg405x640();
    const thumb = await renderThumbnail(bytes, mimetype, 202, 320);
    expect(thumb).toMatchObject({ width: 202, height: 320, mimetype: 'image/jpeg' });
    const meta = await sharp(thumb.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 202, 320]);
  });

  test('applies the EXIF orientation and strips the metadata', async () => {
    const sample = await jpegOrientation6();
    const thumb = await renderThumbnail(sample.bytes, sample.mimetype, 20, 30);
    const meta = await sharp(thumb.data).metadata();
    expect([meta.width, meta.height]).toEqual([20, 30]);
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    // Stored left red / right blue, turned 90° clockwise for display: red on top.
    const [topRed, , topBlue] = await pixel(thumb.data, 10, 2);
    const [bottomRed, , bottomBlue] = await pixel(thumb.data, 10, 27);
    expect(topRed).toBeGreaterThan(200);
    expect(topBlue).toBeLessThan(60);
    expect(bottomBlue).toBeGreaterThan(200);
    expect(bottomRed).toBeLessThan(60);
  });

  test('SVG originals make PNG thumbnails', async () => {
    const sample = svg();
    const thumb = await renderThumbnail(sample.bytes, sample.mimetype, 45, 45);
    expect(thumb.mimetype).toBe('image/png');
    expect((await sharp(thumb.data).metadata()).format).toBe('png');
  });

  test('keeps only the first frame of an animation', async () => {
    const sample = await animatedGif();
    expect((await sharp(sample.bytes).metadata()).pages).toBe(2);
    const thumb = await renderThumbnail(sample.bytes, sample.mimetype, 15, 10);
    const meta = await sharp(thumb.data).metadata();
    expect([meta.format, meta.pages ?? 1, meta.width, meta.height]).toEqual(['gif', 1, 15, 10]);
    const [red, , blue] = await pixel(thumb.data, 7, 5);
    expect(red).toBeGreaterThan(200); // the first (red) frame, not the blue one
    expect(blue).toBeLessThan(60);
  });

  test('keeps alpha in PNG and WebP thumbnails', async () => {
    const png = await pngAlpha();
    const thumb = await renderThumbnail(png.bytes, png.mimetype, 40, 25);
    expect((await sharp(thumb.data).metadata()).hasAlpha).toBe(true);
    const sample = await webp();
    const webpThumb = await renderThumbnail(sample.bytes, sample.mimetype, 32, 24);
    expect(webpThumb.mimetype).toBe('image/webp');
  });

  test('fit, format and quality change the output', async () => {
    const { bytes, mimetype } = await jpeg405x640();
    const inside = await renderThumbnail(bytes, mimetype, 100, 100, { fit: 'inside' });
    expect([inside.width, inside.height]).toEqual([63, 100]);
    const cover = await renderThumbnail(bytes, mimetype, 100, 100, { fit: 'cover' });
    expect([cover.width, cover.height]).toEqual([100, 100]);
    const asWebp = await renderThumbnail(bytes, mimetype, 50, 50, { format: 'webp' });
    expect(asWebp.mimetype).toBe('image/webp');
    expect((await sharp(asWebp.data).metadata()).format).toBe('webp');
    const low = await renderThumbnail(bytes, mimetype, 200, 300, { quality: 5 });
    const high = await renderThumbnail(bytes, mimetype, 200, 300, { quality: 100 });
    expect(low.data.length).toBeLessThan(high.data.length);
  });

  test('a truncated JPEG fails with NotAnImageError', async () => {
    await expect(
      renderThumbnail(await truncatedJpeg(), 'image/jpeg', 10, 10),
    ).rejects.toMatchObject({ code: 'E_NOT_AN_IMAGE' });
    await expect(DecodedImage.decode(await truncatedJpeg(), 'image/jpeg')).rejects.toMatchObject({
      code: 'E_NOT_AN_IMAGE',
    });
  });

  test('DecodedImage shrinks to the bound while decoding, never below a box it must cut', async () => {
    const large = await sharp({
      create: { width: 1600, height: 1200, channels: 3, background: '#3366cc' },
    })
      .jpeg()
      .toBuffer();
    const bounded = await DecodedImage.decode(large, 'image/jpeg', { width: 200, height: 150 });
    const full = await DecodedImage.decode(large, 'image/jpeg');
    expect(bounded.size).toEqual([200, 150]);
    expect(full.size).toEqual([1600, 1200]);
    const thumbnail = await bounded.render(200, 150);
    expect([thumbnail.width, thumbnail.height]).toEqual([200, 150]);
    // A bound larger than the image never enlarges it.
    const small = await DecodedImage.decode(large, 'image/jpeg', { width: 4000, height: 3000 });
    expect(small.size).toEqual([1600, 1200]);
  });

  test('DecodedImage decodes once and cuts several oriented thumbnails', async () => {
    const sample = await jpegOrientation6();
    const decoded = await DecodedImage.decode(sample.bytes, sample.mimetype);
    const small = await decoded.render(10, 15);
    const big = await decoded.render(40, 60);
    expect([small.width, small.height, big.width, big.height]).toEqual([10, 15, 40, 60]);
    const [red] = await pixel(big.data, 20, 3);
    expect(red).toBeGreaterThan(200);
  });
});
