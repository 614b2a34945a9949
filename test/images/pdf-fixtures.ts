/**
 * PDFs written by hand, byte for byte: pages of solid colours (so a render can be checked by
 * its pixels), and the hostile shapes the PDF rules refuse.
 */
import { deflateSync } from 'node:zlib';

export interface PdfPage {
  /** The MediaBox's width and height in points. */
  width: number;
  height: number;
  /** The page's fill, 0 to 1 per channel. */
  color?: [number, number, number];
  /** A content stream of its own instead of the fill. */
  content?: string;
  /** FlateDecode the content stream. */
  deflate?: boolean;
  /** More entries of the page's dictionary, as PDF text (`/Resources << … >>`, `/Annots [ … ]`). */
  entries?: string;
}

/** A PDF of `pages`, with a classic xref table pointing at each object. */
export function makePdf(
  pages: readonly PdfPage[],
  options: { xref?: 'broken'; catalog?: string } = {},
): Buffer {
  const objects: Buffer[] = [];
  const kids = pages.map((_, i) => `${3 + 2 * i} 0 R`).join(' ');
  objects[1] = Buffer.from(`<< /Type /Catalog /Pages 2 0 R${options.catalog ?? ''} >>`);
  objects[2] = Buffer.from(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  pages.forEach((page, i) => {
    const [r, g, b] = page.color ?? [1, 1, 1];
    const text = page.content ?? `${r} ${g} ${b} rg 0 0 ${page.width} ${page.height} re f`;
    const content = page.deflate ? deflateSync(text) : Buffer.from(text, 'latin1');
    objects[3 + 2 * i] = Buffer.from(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${page.width} ${page.height}] ` +
        `/Contents ${4 + 2 * i} 0 R${page.entries === undefined ? '' : ` ${page.entries}`} >>`,
    );
    objects[4 + 2 * i] = Buffer.concat([
      Buffer.from(
        `<< /Length ${content.length}${page.deflate ? ' /Filter /FlateDecode' : ''} >>\nstream\n`,
      ),
      content,
      Buffer.from('\nendstream'),
    ]);
  });
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  for (let i = 1; i < objects.length; i += 1) {
    offsets[i] = length;
    const object = Buffer.concat([
      Buffer.from(`${i} 0 obj\n`),
      objects[i]!,
      Buffer.from('\nendobj\n'),
    ]);
    parts.push(object);
    length += object.length;
  }
  // A broken table: every entry points 7 bytes past its object, as a careless rewrite leaves it.
  const shift = options.xref === 'broken' ? 7 : 0;
  let xref = `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let i = 1; i < objects.length; i += 1) {
    xref += `${String(offsets[i]! + shift).padStart(10, '0')} 00000 n \n`;
  }
  xref += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}

/** Red, green, blue: three pages of different sizes. */
export const THREE_PAGES = makePdf([
  { width: 200, height: 100, color: [1, 0, 0] },
  { width: 300, height: 300, color: [0, 1, 0] },
  { width: 100, height: 400, color: [0, 0, 1] },
]);

/** A first page whose MediaBox is a million points a side. */
export const HUGE_PAGE = makePdf([{ width: 1_000_000, height: 1_000_000, color: [1, 0, 0] }]);

/** Five thousand real pages. */
export const THOUSANDS_OF_PAGES = makePdf(
  Array.from({ length: 5000 }, (): PdfPage => ({ width: 10, height: 10, color: [0, 0, 0] })),
);

/** One page whose xref entries point past their objects. */
export const BROKEN_XREF = makePdf([{ width: 200, height: 100, color: [1, 0, 0] }], {
  xref: 'broken',
});

/**
 * One page of a few million tiny filled rectangles, deflated to a small file: cheap to send,
 * seconds to draw.
 */
export function slowPdf(operations = 3_000_000): Buffer {
  const content = '0 0 1 rg 1 1 1 1 re f\n'.repeat(operations);
  return makePdf([{ width: 200, height: 200, content, deflate: true }]);
}
