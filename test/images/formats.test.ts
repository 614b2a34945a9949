import sharp, { type FormatEnum } from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  EXTENSIONS,
  FORMATS,
  MIMETYPE_OF_EXTENSION,
  MIMETYPE_OF_SHARP_FORMAT,
  mimetypeOfFormat,
  sharpNamesOf,
  WRITABLE_FORMATS,
  writableFormatOf,
} from '../../src/images/formats.js';
import { readImageInfo } from '../../src/images/metadata.js';

describe('the table of formats', () => {
  it('gives every mimetype, aliases included, one extension', () => {
    expect(EXTENSIONS['image/jpeg']).toBe('.jpe');
    expect(EXTENSIONS['image/ms-bmp']).toBe('.bmp');
    expect(EXTENSIONS['image/icon']).toBe('.ico');
    expect(Object.keys(EXTENSIONS)).toHaveLength(
      FORMATS.reduce((n, entry) => n + entry.mimetypes.length, 0),
    );
  });

  it('reads an extension back as the canonical mimetype', () => {
    expect(MIMETYPE_OF_EXTENSION.get('.bmp')).toBe('image/bmp');
    expect(MIMETYPE_OF_EXTENSION.get('.ico')).toBe('image/vnd.microsoft.icon');
    for (const [mimetype, extension] of Object.entries(EXTENSIONS)) {
      expect(EXTENSIONS[MIMETYPE_OF_EXTENSION.get(extension)!], mimetype).toBe(extension);
    }
  });

  it('maps only unambiguous sharp names to a mimetype', () => {
    expect(MIMETYPE_OF_SHARP_FORMAT.get('heif')).toBeUndefined();
    expect(MIMETYPE_OF_SHARP_FORMAT.get('jp2k')).toBe('image/jp2');
    expect(sharpNamesOf('avif')).toEqual(['heif']);
    expect(() => mimetypeOfFormat('nope')).toThrow(TypeError);
  });

  it.each(WRITABLE_FORMATS)('agrees with what sharp writes and reads for %s', async (format) => {
    const data = await sharp({
      create: { width: 4, height: 3, channels: 3, background: '#c33' },
    })
      .toFormat(format as keyof FormatEnum)
      .toBuffer();
    const { format: sharpName } = await sharp(data).metadata();
    expect(sharpNamesOf(format)).toContain(sharpName);
    expect(writableFormatOf(mimetypeOfFormat(format))).toBe(format);
    expect((await readImageInfo(data)).mimetype).toBe(mimetypeOfFormat(format));
  });

  it('writes thumbnails in no vector or unknown format', () => {
    expect(writableFormatOf('image/svg+xml')).toBeUndefined();
    expect(writableFormatOf('application/pdf')).toBeUndefined();
    expect(writableFormatOf('image/x-unknown')).toBeUndefined();
  });
});
