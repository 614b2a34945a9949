import { describe, expect, it } from 'vitest';
import { extensionFor } from '../../src/index.js';
import { describeKey, EXTENSIONS, fileIdentity } from '../../src/stores/keys.js';
import { lockIdOf } from '../../src/models/file-locks.js';
import {
  fileSystemSegments,
  floorDiv,
  floorMod,
  objectStorageKey,
  validateImageKey,
} from '../../src/stores/keys.js';

const BIG = 158166530401166902469325588563807197535n;

function key(objectId: bigint | number, mimetype = 'image/jpeg') {
  return validateImageKey('user', objectId, 100, 80, mimetype);
}

/** The error `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('the file-system layout: type/(id mod 1000)/(id div 1000)/id.WxH.ext', () => {
  it.each<[bigint | number, string]>([
    [0, 'user/0/0/0.100x80.jpe'],
    [5, 'user/5/0/5.100x80.jpe'],
    [1234, 'user/234/1/1234.100x80.jpe'],
    [1234567, 'user/567/1234/1234567.100x80.jpe'],
    // Python's floor semantics: -1234 % 1000 == 766 and -1234 // 1000 == -2.
    [-1234, 'user/766/-2/-1234.100x80.jpe'],
    [-1000, 'user/0/-1/-1000.100x80.jpe'],
    [-1, 'user/999/-1/-1.100x80.jpe'],
    [
      BIG,
      'user/535/158166530401166902469325588563807197/158166530401166902469325588563807197535.100x80.jpe',
    ],
  ])('places id %s at %s', (id, path) => {
    expect(fileSystemSegments(key(id)).join('/')).toBe(path);
  });

  it('gives the same segments for a number and the equal bigint', () => {
    expect(fileSystemSegments(key(1234567))).toEqual(fileSystemSegments(key(1234567n)));
    expect(fileSystemSegments(key(Number.MAX_SAFE_INTEGER))).toEqual(
      fileSystemSegments(key(BigInt(Number.MAX_SAFE_INTEGER))),
    );
  });

  it('uses each mimetype’s extension', () => {
    expect(fileSystemSegments(key(1, 'image/png'))[3]).toBe('1.100x80.png');
    expect(fileSystemSegments(key(1, 'image/svg+xml'))[3]).toBe('1.100x80.svg');
  });
});

describe('the S3 layout: [prefix/]type/id/WxH.ext', () => {
  it.each<[bigint | number, string]>([
    [0, 'user/0/100x80.jpe'],
    [5, 'user/5/100x80.jpe'],
    [1234, 'user/1234/100x80.jpe'],
    [1234567, 'user/1234567/100x80.jpe'],
    [-1234, 'user/-1234/100x80.jpe'],
    [BIG, `user/${BIG}/100x80.jpe`],
  ])('places id %s at %s', (id, path) => {
    expect(objectStorageKey(key(id))).toBe(path);
    expect(objectStorageKey(key(id), 'prod')).toBe(`prod/${path}`);
  });

  it('takes a prefix of several segments', () => {
    expect(objectStorageKey(key(1234), 'prod/eu')).toBe('prod/eu/user/1234/100x80.jpe');
  });
});

describe('floorMod and floorDiv', () => {
  it.each<[bigint, bigint, bigint, bigint]>([
    [1234n, 1000n, 234n, 1n],
    [-1234n, 1000n, 766n, -2n],
    [-1n, 1000n, 999n, -1n],
    [0n, 1000n, 0n, 0n],
    [999n, 1000n, 999n, 0n],
    [-999n, 1000n, 1n, -1n],
  ])('%s mod/div %s is %s and %s, as in Python', (a, b, mod, div) => {
    expect(floorMod(a, b)).toBe(mod);
    expect(floorDiv(a, b)).toBe(div);
    expect(floorDiv(a, b) * b + floorMod(a, b)).toBe(a);
  });
});

describe('the extension table', () => {
  it('gives .jpe for JPEG, as the original does', () => {
    expect(extensionFor('image/jpeg')).toBe('.jpe');
    expect(EXTENSIONS['image/jpeg']).toBe('.jpe');
  });

  it.each([
    ['image/png', '.png'],
    ['image/gif', '.gif'],
    ['image/webp', '.webp'],
    ['image/avif', '.avif'],
    ['image/heic', '.heic'],
    ['image/heif', '.heif'],
    ['image/svg+xml', '.svg'],
    ['image/tiff', '.tiff'],
    ['image/bmp', '.bmp'],
    ['image/vnd.microsoft.icon', '.ico'],
    ['image/jxl', '.jxl'],
    ['image/jp2', '.jp2'],
    ['application/pdf', '.pdf'],
  ])('gives %s the extension %s', (mimetype, extension) => {
    expect(extensionFor(mimetype)).toBe(extension);
  });

  it('has an extension with a dot and no path characters for every entry, and is frozen', () => {
    for (const [mimetype, extension] of Object.entries(EXTENSIONS)) {
      expect(extension, mimetype).toMatch(/^\.[a-z0-9]+$/);
    }
    expect(Object.isFrozen(EXTENSIONS)).toBe(true);
  });

  it.each(['image/x-unknown', 'text/html', 'IMAGE/JPEG', '', 'None'])(
    'refuses the unknown mimetype %j with a TypeError naming it (no literal "None" suffix)',
    (mimetype) => {
      const error = thrown(() => extensionFor(mimetype));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain('mimetype');
      expect(error.message).toContain(JSON.stringify(mimetype));
    },
  );
});

describe('validateImageKey', () => {
  it('normalises the id to a bigint and adds the extension', () => {
    expect(validateImageKey('user', 1234, 100, 80, 'image/jpeg')).toEqual({
      objectType: 'user',
      objectId: 1234n,
      width: 100,
      height: 80,
      mimetype: 'image/jpeg',
      extension: '.jpe',
    });
  });

  it('accepts any single path segment as an object type', () => {
    for (const objectType of ['user', 'user-picture', 'a..b', '...', 'Ünïcode', 'with space']) {
      expect(validateImageKey(objectType, 1, 1, 1, 'image/png').objectType).toBe(objectType);
    }
  });

  it.each(['', '.', '..', '/', 'a/b', '\\', 'a\\b', '\0', 'a\0b', '../x'])(
    'refuses the object type %j with a TypeError naming objectType',
    (objectType) => {
      const error = thrown(() => validateImageKey(objectType, 1, 1, 1, 'image/png'));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/^objectType /);
    },
  );

  it.each([null, undefined, 5, {}])('refuses the object type %j (not a string)', (objectType) => {
    expect(() => validateImageKey(objectType, 1, 1, 1, 'image/png')).toThrow(/^objectType /);
  });

  it.each([
    1.5,
    -0.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    -(2 ** 53),
    '1234',
    null,
    undefined,
    {},
  ])('refuses the object id %s with a TypeError naming objectId', (objectId) => {
    const error = thrown(() => validateImageKey('user', objectId, 1, 1, 'image/png'));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/^objectId /);
  });

  it('accepts the largest safe integers and any bigint', () => {
    expect(validateImageKey('u', Number.MAX_SAFE_INTEGER, 1, 1, 'image/png').objectId).toBe(
      BigInt(Number.MAX_SAFE_INTEGER),
    );
    expect(validateImageKey('u', -(2n ** 200n), 1, 1, 'image/png').objectId).toBe(-(2n ** 200n));
  });

  it.each(['width', 'height'] as const)(
    'refuses a %s below 1 with a RangeError naming it',
    (name) => {
      for (const bad of [0, -1]) {
        const [width, height] = name === 'width' ? [bad, 1] : [1, bad];
        const error = thrown(() => validateImageKey('u', 1, width, height, 'image/png'));
        expect(error).toBeInstanceOf(RangeError);
        expect(error.message).toMatch(new RegExp(`^${name} `));
      }
    },
  );

  it.each(['width', 'height'] as const)(
    'refuses a %s that is not an integer with a TypeError naming it',
    (name) => {
      for (const bad of [1.5, Number.NaN, '10', 10n, null]) {
        const [width, height] = name === 'width' ? [bad, 1] : [1, bad];
        const error = thrown(() => validateImageKey('u', 1, width, height, 'image/png'));
        expect(error).toBeInstanceOf(TypeError);
        expect(error.message).toMatch(new RegExp(`^${name} `));
      }
    },
  );

  it('refuses a mimetype that is not a string or has no extension, naming mimetype', () => {
    expect(() => validateImageKey('u', 1, 1, 1, 42)).toThrow(/^mimetype must be a string/);
    const error = thrown(() => validateImageKey('u', 1, 1, 1, 'image/x-nothing'));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/^mimetype /);
  });
});

describe('a key as a string', () => {
  const key = { objectType: 'user', objectId: 1234n, width: 100, height: 80 };

  it('names one file by its extension, so alias mimetypes are one identity', () => {
    expect(fileIdentity({ ...key, mimetype: 'image/ms-bmp' })).toBe(
      'user\u00001234\u0000100x80.bmp',
    );
    expect(fileIdentity({ ...key, mimetype: 'image/bmp' })).toBe(
      fileIdentity({ ...key, objectId: 1234, mimetype: 'image/ms-bmp' }),
    );
  });

  it('keeps the PostgreSQL advisory lock ids of earlier versions', () => {
    expect(lockIdOf({ ...key, mimetype: 'image/ms-bmp' })).toBe('-6153319144865379615');
  });

  it('reads as objectType/objectId/WxH mimetype in messages', () => {
    expect(describeKey({ ...key, mimetype: 'image/png' })).toBe('user/1234/100x80 image/png');
  });
});
