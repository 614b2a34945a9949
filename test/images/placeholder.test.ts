/**
 * The placeholder's data URL: a PNG that decodes to exactly the pixels of its ThumbHash, opaque
 * or not, compressed so that every `<img>` carrying one stays small.
 */
import sharp from 'sharp';
import { thumbHashToDataURL, thumbHashToRGBA } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { placeholderDataUrl, thumbHashOf } from '../../src/images/placeholder.js';

/** Images whose ThumbHashes differ in the ways that matter: flat, detailed, transparent. */
const SOURCES = {
  'a flat colour': () =>
    sharp({ create: { width: 400, height: 300, channels: 3, background: '#4080c0' } })
      .png()
      .toBuffer(),
  'a detailed photo': () =>
    sharp({
      create: {
        width: 300,
        height: 400,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 80 },
      },
    })
      .png()
      .toBuffer(),
  'a half-transparent image': () =>
    sharp({
      create: {
        width: 200,
        height: 200,
        channels: 4,
        background: { r: 255, g: 0, b: 0, alpha: 0.5 },
      },
    })
      .png()
      .toBuffer(),
};

describe('placeholderDataUrl', () => {
  it.each(Object.entries(SOURCES))(
    'of %s decodes to the ThumbHash’s pixels, in a fraction of thumbhash’s own data URL',
    async (_name, make) => {
      const hash = await thumbHashOf(await make(), 'image/png');
      const url = placeholderDataUrl(hash)!;
      expect(url).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
      const png = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
      const { data, info } = await sharp(png)
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const expected = thumbHashToRGBA(Buffer.from(hash, 'base64'));
      expect({ width: info.width, height: info.height }).toEqual({
        width: expected.w,
        height: expected.h,
      });
      expect(Buffer.compare(data, Buffer.from(expected.rgba))).toBe(0);
      expect(url.length * 3).toBeLessThan(thumbHashToDataURL(Buffer.from(hash, 'base64')).length);
    },
  );

  it('is undefined for what is no ThumbHash', () => {
    expect(placeholderDataUrl('')).toBeUndefined();
    expect(placeholderDataUrl('AAE=')).toBeUndefined();
  });
});
