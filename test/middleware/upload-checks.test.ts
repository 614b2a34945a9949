import { beforeAll, describe, expect, it } from 'vitest';
import { findSvgProblem, type SvgProblem } from '../../src/images/svg-safety.js';
import { sniffImageType } from '../../src/images/magic.js';
import { makeSamples, type Samples } from './upload-fixtures.js';

let samples: Samples;
beforeAll(async () => {
  samples = await makeSamples();
});

const svg = (inner: string, attributes = '') =>
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"${attributes}>${inner}</svg>`,
  );

describe('sniffImageType', () => {
  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
    ['avif', 'image/avif'],
    ['gif', 'image/gif'],
    ['tiff', 'image/tiff'],
    ['svg', 'image/svg+xml'],
  ] as const)('knows %s from its bytes', (name, mimetype) => {
    expect(sniffImageType(samples[name])).toEqual({ format: name, mimetype });
  });

  it('knows nothing of text, HTML or empty input', () => {
    expect(sniffImageType(samples.text)).toBeUndefined();
    expect(sniffImageType(Buffer.from('<html><body><svg></svg></body></html>'))).toBeUndefined();
    expect(sniffImageType(Buffer.alloc(0))).toBeUndefined();
    expect(sniffImageType(Buffer.from([0xff, 0xd8]))).toBeUndefined();
  });

  it('knows an SVG after a BOM, white space and a comment', () => {
    const bytes = Buffer.from(
      '\ufeff  \n<!-- made by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    );
    expect(sniffImageType(bytes)?.format).toBe('svg');
  });

  it.each([
    ['an xml-stylesheet instruction', '<?xml-stylesheet href="x.css"?>\n'],
    ['an XML declaration, then an instruction', '<?xml version="1.0"?><?foo bar?>\n'],
    ['a BOM, a comment and an instruction', '\ufeff<!-- c --><?xml-stylesheet href="x"?>'],
  ])('knows an SVG after %s (which the safety check then refuses)', (_name, prolog) => {
    const bytes = Buffer.from(`${prolog}<svg xmlns="http://www.w3.org/2000/svg"/>`);
    expect(sniffImageType(bytes)?.format).toBe('svg');
    expect(findSvgProblem(bytes)).toBe('processing-instruction');
  });

  it('tells AVIF from other HEIF files by the ftyp brands', () => {
    const ftyp = (major: string, ...compatible: string[]) => {
      const brands = [major, '\0\0\0\0', ...compatible].join('');
      const box = Buffer.alloc(8 + brands.length);
      box.writeUInt32BE(box.length, 0);
      box.write('ftyp', 4, 'latin1');
      box.write(brands, 8, 'latin1');
      return box;
    };
    expect(sniffImageType(ftyp('avif', 'mif1'))?.format).toBe('avif');
    expect(sniffImageType(ftyp('mif1', 'avif'))?.format).toBe('avif');
    expect(sniffImageType(ftyp('heic', 'mif1'))?.format).toBe('heic');
    expect(sniffImageType(ftyp('isom', 'mp41'))).toBeUndefined();
  });
});

describe('findSvgProblem', () => {
  it('passes plain drawings, local references and inline rasters', () => {
    const safe = [
      svg('<rect width="10" height="10" fill="red"/>'),
      samples.svg,
      svg(
        '<defs><circle id="c" r="2"/></defs><use href="#c"/><use xlink:href="#c"/>',
        ' xmlns:xlink="http://www.w3.org/1999/xlink"',
      ),
      svg('<linearGradient id="g"/><rect fill="url(#g)" style="fill: url(\'#g\')"/>'),
      svg('<image href="data:image/png;base64,iVBORw0KGgo="/>'),
      svg('<text>an onion = a vegetable</text>'.replace(' = ', ' is ')),
      svg('<style>rect { fill: blue }</style><rect/>'),
    ];
    for (const bytes of safe) expect(findSvgProblem(bytes), bytes.toString()).toBeUndefined();
  });

  it.each<[string, Buffer, SvgProblem]>([
    ['a script element', svg('<script>alert(1)</script>'), 'script'],
    [
      'a prefixed, upper-case script',
      svg('<s:SCRIPT xmlns:s="http://www.w3.org/2000/svg">alert(1)</s:SCRIPT>'),
      'script',
    ],
    ['an onload handler', svg('', ' onload="alert(1)"'), 'event-handler'],
    // Not XML: HTML's parser reads a handler here, XML's refuses the file.
    ['a handler after a slash', svg('<rect/onclick=alert(1) />'), 'malformed'],
    ['a handler in single quotes', svg("<rect onmouseover='x()'/>"), 'event-handler'],
    ['a javascript: link', svg('<a href="javascript:alert(1)"><rect/></a>'), 'javascript-url'],
    [
      'an encoded javascript: link',
      svg('<a href="jav&#x61;script&#58;alert(1)"/>'),
      'javascript-url',
    ],
    [
      'a javascript: link split by a tab',
      svg('<a href="java\tscript:alert(1)"/>'),
      'javascript-url',
    ],
    [
      'an SVG data URL',
      svg('<image href="data:image/svg+xml;base64,PHN2Zz4="/>'),
      'javascript-url',
    ],
    ['a remote image', svg('<image href="https://evil.example/x.png"/>'), 'external-reference'],
    [
      'a remote xlink:href',
      svg('<use xlink:href="other.svg#a"/>', ' xmlns:xlink="http://www.w3.org/1999/xlink"'),
      'external-reference',
    ],
    [
      'a remote CSS url()',
      svg('<rect style="fill: url(https://evil.example/p)"/>'),
      'external-reference',
    ],
    ['a CSS @import', svg('<style>@import "x.css";</style>'), 'css-at-rule'],
    ['xml:base', svg('<g xml:base="https://evil.example/"/>'), 'external-reference'],
    ['a foreignObject', svg('<foreignObject><div/></foreignObject>'), 'foreign-object'],
    ['an iframe', svg('<iframe src="#"/>'), 'embedded-document'],
    [
      'an href animation',
      svg('<use href="#c"><set attributeName="href" to="#x"/></use>'),
      'href-animation',
    ],
    ['a DOCTYPE', Buffer.from(`<!DOCTYPE svg>${svg('').toString()}`), 'doctype'],
    ['an undeclared entity', svg('<text>&x;</text>'), 'entity'],
    // Outside a DOCTYPE a declaration is not XML at all.
    ['an entity declaration', Buffer.from(`<!ENTITY x "y">${svg('').toString()}`), 'malformed'],
    [
      'a stylesheet instruction',
      Buffer.from(`<?xml-stylesheet href="x.css"?>${svg('').toString()}`),
      'processing-instruction',
    ],
    [
      'another encoding',
      Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>${svg('').toString()}`),
      'encoding',
    ],
    ['UTF-16', Buffer.from(`\ufeff${svg('').toString()}`, 'utf16le'), 'encoding'],
    ['invalid UTF-8', Buffer.concat([svg(''), Buffer.from([0xc3, 0x28])]), 'encoding'],
  ])('refuses %s', (_name, bytes, problem) => {
    expect(findSvgProblem(bytes)).toBe(problem);
  });
});
