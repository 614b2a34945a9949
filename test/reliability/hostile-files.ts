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
const TOO_MANY_PIXELS = refused(422, 'E_IMAGE_TOO_MANY_PIXELS');
const TOO_MUCH_WORK = refused(422, 'E_IMAGE_TOO_MUCH_WORK');
const METADATA_TOO_LARGE = refused(422, 'E_IMAGE_METADATA_TOO_LARGE');

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

/** A JPEG carrying `bytes` of garbage ICC profile, in APP2 segments numbered as the format asks. */
export function jpegWithIcc(jpeg: Buffer, bytes: number): Buffer {
  const perSegment = 65_519 - 14;
  const count = Math.ceil(bytes / perSegment);
  const segments = Array.from({ length: count }, (_, i) => {
    const size = Math.min(perSegment, bytes - i * perSegment);
    const segment = Buffer.alloc(4 + 14 + size, 0x5a);
    segment.set([0xff, 0xe2], 0);
    segment.writeUInt16BE(2 + 14 + size, 2);
    segment.write('ICC_PROFILE\0', 4, 'latin1');
    segment.set([i + 1, count], 16);
    return segment;
  });
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** A JPEG with `bytes` of XMP: the main packet, then extended-XMP segments. */
function jpegWithXmp(jpeg: Buffer, bytes: number): Buffer {
  const segments: Buffer[] = [];
  for (let left = bytes, i = 0; left > 0; left -= 60_000, i += 1) {
    const prefix =
      i === 0 ? 'http://ns.adobe.com/xap/1.0/\0' : 'http://ns.adobe.com/xmp/extension/\0';
    const size = Math.min(left, 60_000);
    const segment = Buffer.alloc(4 + prefix.length + size, 0x20);
    segment.set([0xff, 0xe1], 0);
    segment.writeUInt16BE(2 + prefix.length + size, 2);
    segment.write(prefix, 4, 'latin1');
    segments.push(segment);
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** A GIF with a `width`x`height` logical screen and `frames` 1x1 frames at (`x`, `y`). */
export function gifOnScreen(width: number, height: number, frames = 1, x = 0, y = 0): Buffer {
  const header = Buffer.alloc(13 + 6);
  header.write('GIF89a', 0, 'latin1');
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  header.set([0x80, 0, 0, 0, 0, 0, 255, 255, 255], 10); // global colour table of 2
  const frame = Buffer.from([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0]);
  frame.writeUInt16LE(x, 1);
  frame.writeUInt16LE(y, 3);
  return Buffer.concat([
    header,
    ...Array.from({ length: frames }, () => frame),
    Buffer.from([0x3b]),
  ]);
}

/** A 1x1 RGB PNG's chunks between the signature and IEND, with `extra` chunks after IHDR. */
function pngWith(width: number, height: number, extra: Buffer[], idat?: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra,
    idat ?? chunk('IDAT', deflateSync(Buffer.alloc(height * (1 + 3 * width)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An APNG of `width`x`height` whose `acTL` declares `frames` frames (it has one). */
export function apngDeclaring(width: number, height: number, frames: number): Buffer {
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(frames, 0);
  const fctl = Buffer.alloc(26);
  fctl.writeUInt32BE(width, 4);
  fctl.writeUInt32BE(height, 8);
  fctl.writeUInt16BE(1, 22); // delay 1/1
  return pngWith(width, height, [chunk('acTL', actl), chunk('fcTL', fctl)]);
}

/** A 1x1 PNG whose `iCCP` profile inflates to `bytes` of zeros. */
function pngWithIccBomb(bytes: number): Buffer {
  const profile = Buffer.concat([
    Buffer.from('bomb\0\0', 'latin1'),
    deflateSync(Buffer.alloc(bytes)),
  ]);
  return pngWith(1, 1, [chunk('iCCP', profile)]);
}

/** A 1x1 PNG with `bytes` of uncompressed XMP in `iTXt`. */
function pngWithXmp(bytes: number): Buffer {
  const head = Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1');
  return pngWith(1, 1, [chunk('iTXt', Buffer.concat([head, Buffer.alloc(bytes, 0x20)]))]);
}

/** A PNG whose IDAT chunk's CRC is wrong (the data is intact). */
function pngWithBadIdatCrc(png: Buffer): Buffer {
  const out = Buffer.from(png);
  for (let at = 8; at + 8 <= out.length; at += 12 + out.readUInt32BE(at)) {
    if (out.toString('latin1', at + 4, at + 8) === 'IDAT') {
      const crcAt = at + 8 + out.readUInt32BE(at);
      out[crcAt] = out[crcAt]! ^ 0xff;
      return out;
    }
  }
  throw new Error('no IDAT');
}

function riffChunk(type: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(type, 0, 'latin1');
  header.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, data, Buffer.alloc(data.length % 2)]);
}

const u24 = (n: number) => Buffer.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff]);

/** An extended WebP: VP8X of `flags` for a `width`x`height` canvas, then `chunks`. */
function webpOf(flags: number, width: number, height: number, chunks: Buffer[]): Buffer {
  const vp8x = Buffer.concat([Buffer.from([flags, 0, 0, 0]), u24(width - 1), u24(height - 1)]);
  return riffChunk(
    'RIFF',
    Buffer.concat([Buffer.from('WEBP'), riffChunk('VP8X', vp8x), ...chunks]),
  );
}

/** An animated WebP: a `width`x`height` canvas and `frames` 1x1 lossless frames (a few KB). */
export async function animatedWebp(width: number, height: number, frames: number): Promise<Buffer> {
  const pixel = await sharp({ create: { width: 1, height: 1, channels: 4, background: '#f00f' } })
    .webp({ lossless: true })
    .toBuffer();
  const vp8l = pixel.subarray(12); // the file's one chunk
  const position = Buffer.concat([u24(0), u24(0), u24(0), u24(0), u24(10), Buffer.from([0])]);
  const anmf = riffChunk('ANMF', Buffer.concat([position, vp8l]));
  const anim = riffChunk('ANIM', Buffer.alloc(6));
  return webpOf(0x12, width, height, [anim, ...Array.from({ length: frames }, () => anmf)]);
}

/** A still WebP (`webp`, a simple lossy one) with `bytes` of EXIF. */
function webpWithExif(webp: Buffer, bytes: number, width: number, height: number): Buffer {
  return webpOf(0x08, width, height, [
    webp.subarray(12),
    riffChunk('EXIF', Buffer.alloc(bytes, 0x41)),
  ]);
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
    // Budgets: areas, frames and metadata only the container tells (issue 12).
    file(
      'a GIF whose logical screen is 16000x16000, with one 1x1 frame',
      gifOnScreen(16_000, 16_000),
      TOO_MANY_PIXELS,
      'x.gif',
      'image/gif',
    ),
    file(
      'a GIF whose logical screen is 65535x65535, with one 1x1 frame',
      gifOnScreen(65_535, 65_535),
      TOO_MANY_PIXELS,
      'x.gif',
      'image/gif',
    ),
    file(
      'a GIF whose 1x1 frame sits at (60000, 60000)',
      gifOnScreen(1, 1, 1, 60_000, 60_000),
      TOO_MANY_PIXELS,
      'x.gif',
      'image/gif',
    ),
    file(
      'a GIF of 100 frames on a 2000x2000 screen (400 M pixels to decode)',
      gifOnScreen(2000, 2000, 100),
      TOO_MUCH_WORK,
      'x.gif',
      'image/gif',
    ),
    file(
      'an APNG whose acTL declares 1,000,000 frames',
      apngDeclaring(1, 1, 1_000_000),
      refused(422, 'E_IMAGE_TOO_MANY_FRAMES'),
    ),
    file('an APNG with a 16000x16000 canvas', apngDeclaring(16_000, 16_000, 2), TOO_MANY_PIXELS),
    file(
      'an animated WebP of 4.8 KB: 7000x7000 canvas, 100 frames',
      await animatedWebp(7000, 7000, 100),
      TOO_MUCH_WORK,
      'x.webp',
      'image/webp',
    ),
    file(
      'an animated WebP with a 16000x16000 canvas',
      await animatedWebp(16_000, 16_000, 1),
      TOO_MANY_PIXELS,
      'x.webp',
      'image/webp',
    ),
    file(
      'a JPEG with a 2 MiB garbage ICC profile in 33 segments',
      jpegWithIcc(valid.jpeg, 2 * 1024 * 1024),
      METADATA_TOO_LARGE,
      'x.jpg',
      'image/jpeg',
    ),
    file(
      'a JPEG with a 900 KiB garbage ICC profile (under the limit)',
      jpegWithIcc(valid.jpeg, 900 * 1024),
      accepted('image/jpeg'),
      'x.jpg',
      'image/jpeg',
    ),
    file(
      'a JPEG with 1.5 MiB of EXIF',
      jpegWithExif(valid.jpeg, 1.5 * 1024 * 1024),
      METADATA_TOO_LARGE,
      'x.jpg',
      'image/jpeg',
    ),
    file(
      'a JPEG with 1.5 MiB of (extended) XMP',
      jpegWithXmp(valid.jpeg, 1.5 * 1024 * 1024),
      METADATA_TOO_LARGE,
      'x.jpg',
      'image/jpeg',
    ),
    file(
      'a PNG whose iCCP profile inflates to 64 MiB',
      pngWithIccBomb(64 * 1024 * 1024),
      METADATA_TOO_LARGE,
    ),
    file('a PNG with 1.5 MiB of XMP', pngWithXmp(1.5 * 1024 * 1024), METADATA_TOO_LARGE),
    file(
      'a WebP with 1.5 MiB of EXIF',
      webpWithExif(valid.webp, 1.5 * 1024 * 1024, 48, 32),
      METADATA_TOO_LARGE,
      'x.webp',
      'image/webp',
    ),
    file(
      'a PNG with a bad IDAT CRC',
      pngWithBadIdatCrc(big.png),
      refused(422, 'E_IMAGE_UNDECODABLE'),
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
