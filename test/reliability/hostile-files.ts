/**
 * Hostile uploads, generated in the test run (nothing binary is committed): what each is, its
 * bytes, the name and type the client claims, and the answer it must get.
 */
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

export interface HostileFile {
  readonly name: string;
  readonly bytes: Buffer;
  /** The client's file name; raw bytes, so NUL and controls reach the parser as sent. */
  readonly filename: string;
  readonly contentType: string;
  /** The status and error code, or `accepted` with the type its bytes must be stored as. */
  readonly expect: { status: number; code: string } | { accepted: string };
}

const refused = (status: number, code: string) => ({ status, code });
/** Bytes of no image type at all. */
const NOT_IMAGE = refused(415, 'E_NOT_AN_IMAGE');
/** An image type outside the allow-list. */
const NOT_ALLOWED = refused(415, 'E_IMAGE_TYPE_NOT_ALLOWED');
/** Control bytes are not allowed in a header, so a part header with them is malformed. */
const MALFORMED = refused(400, 'E_UPLOAD_MALFORMED');
const TRUNCATED = refused(422, 'E_IMAGE_TRUNCATED');
const UNSAFE_SVG = refused(422, 'E_SVG_UNSAFE');

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG whose header claims `width`x`height`, with one row of real data. */
export function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + 3 * Math.min(width, 1000)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 1x1 GIF of `frames` frames. */
export function gifOfFrames(frames: number): Buffer {
  const header = Buffer.from([
    ...Buffer.from('GIF89a'),
    1,
    0,
    1,
    0,
    0x80,
    0,
    0, // 1x1, global colour table of 2
    0,
    0,
    0,
    255,
    255,
    255,
    // NETSCAPE2.0 loop extension
    0x21,
    0xff,
    0x0b,
    ...Buffer.from('NETSCAPE2.0'),
    3,
    1,
    0,
    0,
    0,
  ]);
  const frame = Buffer.from([
    0x21,
    0xf9,
    4,
    0,
    1,
    0,
    0,
    0, // graphic control: 10 ms
    0x2c,
    0,
    0,
    0,
    0,
    1,
    0,
    1,
    0,
    0, // image descriptor 1x1
    2,
    2,
    0x44,
    0x01,
    0, // LZW data
  ]);
  return Buffer.concat([
    header,
    ...Array.from({ length: frames }, () => frame),
    Buffer.from([0x3b]),
  ]);
}

/** A JPEG with `bytes` of junk EXIF (APP1) segments after SOI. */
function jpegWithExif(jpeg: Buffer, bytes: number): Buffer {
  const segments: Buffer[] = [];
  for (let left = bytes; left > 0; left -= 65_000) {
    const size = Math.min(left, 65_000);
    const segment = Buffer.alloc(4 + size, 0x41);
    segment.set([0xff, 0xe1], 0);
    segment.writeUInt16BE(size + 2, 2);
    segment.write('Exif\0\0MM\0*', 4, 'latin1');
    segments.push(segment);
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

const svg = (inner: string, attributes = '', prolog = '') =>
  Buffer.from(
    `${prolog}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"` +
      ` width="10" height="10"${attributes}>${inner}</svg>`,
  );

const BILLION_LAUGHS =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
  Array.from({ length: 9 }, (_, i) => {
    const prev = i === 0 ? 'lol' : `lol${i}`;
    return `<!ENTITY lol${i + 1} "${`&${prev};`.repeat(10)}">`;
  }).join('') +
  ']>';

/** Valid samples the hostile files are made from. */
export async function validSamples() {
  const base = sharp({
    create: { width: 48, height: 32, channels: 3, background: { r: 200, g: 90, b: 10 } },
  });
  return {
    jpeg: await base.clone().jpeg().toBuffer(),
    png: await base.clone().png().toBuffer(),
    gif: await base.clone().gif().toBuffer(),
    webp: await base.clone().webp().toBuffer(),
  };
}

export async function hostileFiles(): Promise<HostileFile[]> {
  const valid = await validSamples();
  const noisy = sharp({
    create: {
      width: 200,
      height: 150,
      channels: 3,
      background: '#888',
      noise: { type: 'gaussian', mean: 128, sigma: 50 },
    },
  });
  const big = {
    jpeg: await noisy.clone().jpeg().toBuffer(),
    png: await noisy.clone().png().toBuffer(),
    gif: await noisy.clone().gif().toBuffer(),
    webp: await noisy.clone().webp().toBuffer(),
  };
  const half = (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length / 2));
  const file = (
    name: string,
    bytes: Buffer,
    expect: HostileFile['expect'],
    filename = 'upload.png',
    contentType = 'image/png',
  ): HostileFile => ({ name, bytes, filename, contentType, expect });
  const accepted = (mimetype: string) => ({ accepted: mimetype });

  return [
    // Not images at all.
    file('an empty file', Buffer.alloc(0), NOT_IMAGE),
    file('plain text', Buffer.from('hello\n'.repeat(100)), NOT_IMAGE),
    file(
      'HTML',
      Buffer.from('<!doctype html><script>alert(1)</script>'),
      NOT_IMAGE,
      'x.html',
      'text/html',
    ),
    file('HTML named as a PNG', Buffer.from('<html><body onload=alert(1)>'), NOT_IMAGE),
    file(
      'a JPEG header followed by HTML',
      Buffer.concat([
        valid.jpeg.subarray(0, 20),
        Buffer.from('<html><script>alert(1)</script></html>'),
      ]),
      TRUNCATED,
      'x.jpg',
      'image/jpeg',
    ),
    file(
      'a PNG signature followed by JavaScript',
      Buffer.concat([valid.png.subarray(0, 8), Buffer.from('alert(document.cookie)//')]),
      TRUNCATED,
    ),
    file(
      'a GIF/JavaScript polyglot',
      Buffer.from('GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=alert(1)//;'),
      refused(422, 'E_IMAGE_UNDECODABLE'),
      'x.gif',
      'image/gif',
    ),
    file(
      'a PDF',
      Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF'),
      NOT_ALLOWED,
      'x.pdf',
      'application/pdf',
    ),
    file(
      'a ZIP',
      Buffer.from('PK\x03\x04\x14\x00\x00\x00\x00\x00' + '\0'.repeat(40), 'latin1'),
      NOT_IMAGE,
    ),
    file(
      'an ELF binary',
      Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(100)]),
      NOT_IMAGE,
    ),
    file(
      'a Windows executable',
      Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]),
      NOT_IMAGE,
      'x.exe',
      'application/octet-stream',
    ),
    file(
      'a TIFF (not allowed by default)',
      await noisy.clone().tiff().toBuffer(),
      NOT_ALLOWED,
      'x.tif',
      'image/tiff',
    ),
    file(
      'a BMP header',
      Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]),
      NOT_ALLOWED,
      'x.bmp',
      'image/bmp',
    ),
    // Truncated and corrupt images.
    file('a truncated JPEG', half(big.jpeg), TRUNCATED, 'x.jpg', 'image/jpeg'),
    file('a truncated PNG', half(big.png), TRUNCATED),
    file('a truncated GIF', half(big.gif), TRUNCATED, 'x.gif', 'image/gif'),
    file('a truncated WebP', half(big.webp), TRUNCATED, 'x.webp', 'image/webp'),
    file(
      'a JPEG cut after its header',
      valid.jpeg.subarray(0, 200),
      TRUNCATED,
      'x.jpg',
      'image/jpeg',
    ),
    file('a PNG of only its signature', valid.png.subarray(0, 8), TRUNCATED),
    // Bombs.
    file(
      'a PNG claiming 100000x100000 pixels',
      pngClaiming(100_000, 100_000),
      refused(422, 'E_IMAGE_TOO_MANY_PIXELS'),
    ),
    file(
      'a PNG claiming 20000x20000 pixels',
      pngClaiming(20_000, 20_000),
      refused(422, 'E_IMAGE_TOO_MANY_PIXELS'),
    ),
    file(
      'a GIF of 10,000 frames',
      gifOfFrames(10_000),
      refused(422, 'E_IMAGE_TOO_MANY_FRAMES'),
      'x.gif',
      'image/gif',
    ),
    file(
      'a JPEG with a 10 MB EXIF block',
      jpegWithExif(valid.jpeg, 10 * 1024 * 1024),
      refused(413, 'E_UPLOAD_FILE_TOO_LARGE'),
      'x.jpg',
      'image/jpeg',
    ),
    // SVGs (the app allows SVG, so each reaches the safety check).
    file(
      'an SVG with <script>',
      svg('<script>alert(1)</script>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG with a CDATA script',
      svg('<script><![CDATA[alert(1)]]></script>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file('an SVG with onload', svg('', ' onload="alert(1)"'), UNSAFE_SVG, 'x.svg', 'image/svg+xml'),
    file(
      'an SVG with a javascript: link',
      svg('<a href="javascript:alert(1)"><rect width="5" height="5"/></a>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG with an xlink:href javascript: link',
      svg('<a xlink:href="&#106;avascript:alert(1)"><rect/></a>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG with an external href',
      svg('<image href="https://evil.example/x.png" width="5" height="5"/>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG using an external file',
      svg('<use xlink:href="https://evil.example/s.svg#a"/>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG with a <foreignObject>',
      svg('<foreignObject><iframe src="https://evil.example"/></foreignObject>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG with XML entities',
      svg('<text>&a;</text>', '', '<!DOCTYPE svg [<!ENTITY a "b">]>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG with an external entity (XXE)',
      svg('<text>&x;</text>', '', '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'a billion-laughs SVG',
      svg('<text>&lol9;</text>', '', BILLION_LAUGHS),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG animating an href to javascript:',
      svg('<a><set attributeName="href" to="javascript:alert(1)"/><rect/></a>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'an SVG importing CSS',
      svg('<style>@import url(https://evil.example/x.css);</style>'),
      UNSAFE_SVG,
      'x.svg',
      'image/svg+xml',
    ),
    // Valid images whose claims lie, and hostile file names: stored by their bytes, under keys.
    file(
      'a PNG claiming to be a JPEG',
      valid.png,
      accepted('image/png'),
      'photo.jpg',
      'image/jpeg',
    ),
    file(
      'a JPEG claiming to be HTML',
      valid.jpeg,
      accepted('image/jpeg'),
      'page.html',
      'text/html',
    ),
    file(
      'a WebP claiming to be an SVG',
      valid.webp,
      accepted('image/webp'),
      'x.svg',
      'image/svg+xml',
    ),
    file(
      'a GIF named with ../',
      valid.gif,
      accepted('image/gif'),
      '../../../../tmp/evil.gif',
      'image/gif',
    ),
    file('a PNG named with a NUL', valid.png, MALFORMED, 'safe.png\0.html'),
    file(
      'a PNG with a 5,000-character name',
      valid.png,
      accepted('image/png'),
      `${'a'.repeat(4996)}.png`,
    ),
    file('a PNG named with terminal escapes', valid.png, MALFORMED, 'x\u0007\u001b[31m.png'),
    file(
      'a PNG named with Unicode bidi controls',
      valid.png,
      accepted('image/png'),
      'x\u202egnp.exe\u2066\u200b.png',
    ),
    file('a PNG named with an absolute path', valid.png, accepted('image/png'), '/etc/passwd'),
  ];
}
