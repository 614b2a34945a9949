/**
 * PDF originals read and rendered by pdf.js in a worker: the first page of a real multi-page
 * document, and the hostile shapes refused within their budgets with their 422 codes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readPdf } from '../../src/images/pdf-render.js';
import { findPdfStructureProblem } from '../../src/images/pdf-structure.js';
import {
  BROKEN_XREF,
  HUGE_PAGE,
  makePdf,
  slowPdf,
  THOUSANDS_OF_PAGES,
  THREE_PAGES,
} from './pdf-fixtures.js';

/** A page resource: Helvetica, one of the 14 standard fonts, not embedded. */
const HELVETICA = '/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >>';

/** CPU microseconds (every thread of the process) that `fn` took. */
async function cpuOf<T>(fn: () => Promise<T>): Promise<{ result: T; cpu: number }> {
  const before = process.cpuUsage();
  const result = await fn();
  const { user, system } = process.cpuUsage(before);
  return { result, cpu: user + system };
}

async function refusal(fn: () => Promise<unknown>): Promise<{ code: string; status: number }> {
  const error = (await fn().then(
    () => undefined,
    (caught: unknown) => caught,
  )) as { code: string; status: number } | undefined;
  expect(error).toBeDefined();
  return { code: error!.code, status: error!.status };
}

describe('readPdf', () => {
  it('reads the first page of a multi-page document: its size in points and the page count', async () => {
    const info = await readPdf(THREE_PAGES, { render: false });
    expect(info).toEqual({ pages: 3, width: 200, height: 100 });
  });

  it('renders the first page (red), not the others, to a PNG covering the bound', async () => {
    const { png, width, height } = await readPdf(THREE_PAGES, { bound: { width: 80, height: 40 } });
    expect({ width, height }).toEqual({ width: 200, height: 100 });
    const image = sharp(png);
    const metadata = await image.metadata();
    expect(metadata.format).toBe('png');
    expect(metadata.width).toBeGreaterThanOrEqual(80);
    expect(metadata.height).toBeGreaterThanOrEqual(40);
    expect(metadata.width / metadata.height).toBeCloseTo(2, 1);
    const { data } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const middle =
      (Math.floor(metadata.height / 2) * metadata.width + Math.floor(metadata.width / 2)) * 3;
    expect([...data.subarray(middle, middle + 3)]).toEqual([255, 0, 0]);
  });

  it('renders at 72 dpi without a bound', async () => {
    const { png } = await readPdf(THREE_PAGES);
    expect(await sharp(png).metadata()).toMatchObject({ width: 200, height: 100 });
  });

  it('refuses a huge page box before rendering (E_PDF_PAGE_TOO_LARGE)', async () => {
    const { result, cpu } = await cpuOf(() => refusal(() => readPdf(HUGE_PAGE)));
    expect(result).toEqual({ code: 'E_PDF_PAGE_TOO_LARGE', status: 422 });
    expect(cpu).toBeLessThan(20_000_000);
  });

  it('refuses a page over maxPageSize points even when its area is within maxPixels', async () => {
    const tall = makePdf([{ width: 10, height: 20_000 }]);
    expect(await refusal(() => readPdf(tall))).toEqual({
      code: 'E_PDF_PAGE_TOO_LARGE',
      status: 422,
    });
    expect((await readPdf(tall, { render: false, limits: { maxPageSize: 20_000 } })).height).toBe(
      20_000,
    );
  });

  it('refuses thousands of pages (E_PDF_TOO_MANY_PAGES), and takes them under a raised limit', async () => {
    const { result, cpu } = await cpuOf(() => refusal(() => readPdf(THOUSANDS_OF_PAGES)));
    expect(result).toEqual({ code: 'E_PDF_TOO_MANY_PAGES', status: 422 });
    expect(cpu).toBeLessThan(20_000_000);
    const info = await readPdf(THOUSANDS_OF_PAGES, { render: false, limits: { maxPages: 5000 } });
    expect(info.pages).toBe(5000);
  });

  it('refuses a broken xref that pdf.js would repair (E_PDF_UNREADABLE)', async () => {
    expect(findPdfStructureProblem(BROKEN_XREF)).toMatch(/xref entry 1/);
    const { result, cpu } = await cpuOf(() => refusal(() => readPdf(BROKEN_XREF)));
    expect(result).toEqual({ code: 'E_PDF_UNREADABLE', status: 422 });
    expect(cpu).toBeLessThan(20_000_000);
  });

  it.each([
    ['no startxref', (pdf: string) => pdf.replace(/startxref\n\d+/, 'startxref\n')],
    ['startxref past the end', (pdf: string) => pdf.replace(/startxref\n\d+/, 'startxref\n99999')],
    ['startxref at an object', (pdf: string) => pdf.replace(/startxref\n\d+/, 'startxref\n9')],
    ['a garbled table', (pdf: string) => pdf.replace(/xref\n0 \d+/, 'xref\nzz qq')],
    ['no trailer', (pdf: string) => pdf.replace('trailer', 'trailor')],
    ['no %%EOF', (pdf: string) => pdf.replace('%%EOF', '')],
    [
      'a /Prev loop',
      (pdf: string) =>
        pdf.replace('/Root 1 0 R', `/Root 1 0 R /Prev ${pdf.lastIndexOf('xref\n0')}`),
    ],
  ])('refuses %s (E_PDF_UNREADABLE)', async (_name, mangle) => {
    const mangled = Buffer.from(mangle(THREE_PAGES.toString('latin1')), 'latin1');
    expect(findPdfStructureProblem(mangled)).toBeDefined();
    expect(await refusal(() => readPdf(mangled))).toEqual({
      code: 'E_PDF_UNREADABLE',
      status: 422,
    });
  });

  it('fetches nothing and runs no JavaScript: a standard font from disk, links and actions left alone', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      // Red page, black text in Helvetica (not embedded: pdf.js draws it from its own font
      // data), a link, a JavaScript open action that would post to the server, and an action
      // on closing that would open a URL.
      const pdf = makePdf(
        [
          {
            width: 200,
            height: 100,
            content: '1 0 0 rg 0 0 200 100 re f 0 0 0 rg BT /F1 48 Tf 10 30 Td (Hello) Tj ET',
            entries:
              `/Resources << ${HELVETICA} >> ` +
              `/Annots [ << /Type /Annot /Subtype /Link /Rect [0 0 200 100] /A << /S /URI /URI (${origin}/link) >> >> ]`,
          },
        ],
        {
          catalog:
            ` /OpenAction << /S /JavaScript /JS (this.submitForm('${origin}/js'); app.alert(1)) >>` +
            ` /AA << /WC << /S /URI /URI (${origin}/close) >> >>`,
        },
      );
      const { png } = await readPdf(pdf, { bound: { width: 200, height: 100 } });
      const { data, info } = await sharp(png)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      let dark = 0;
      for (let at = 0; at < data.length; at += 3) {
        if (data[at]! < 80 && data[at + 1]! < 80 && data[at + 2]! < 80) dark += 1;
      }
      // The text is drawn (its glyphs came from pdfjs-dist's folder), the page stays red.
      expect(dark).toBeGreaterThan(200);
      const corner = (info.height - 2) * info.width * 3 + (info.width - 2) * 3;
      expect([...data.subarray(corner, corner + 3)]).toEqual([255, 0, 0]);
      expect(requests).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each([
    ['an operator that is garbage', 'q ) >> ]] Q'],
    ['an image that is not there', '/Nope Do'],
    ['an XObject that is no stream', '/Im1 Do'],
  ])(
    'refuses a first page with %s (E_PDF_UNREADABLE) instead of rendering it blank',
    async (_name, broken) => {
      const page = {
        width: 200,
        height: 100,
        content: `1 0 0 rg 0 0 200 100 re f 0 0 0 rg BT /F1 48 Tf 10 30 Td (Hello) Tj ET ${broken}`,
        entries:
          `/Resources << ${HELVETICA} /XObject << /Im1 << /Type /XObject /Subtype /Image ` +
          '/Width 1 /Height 1 /ColorSpace /DeviceRGB /BitsPerComponent 8 >> >> >>',
      };
      expect(await refusal(() => readPdf(makePdf([page])))).toEqual({
        code: 'E_PDF_UNREADABLE',
        status: 422,
      });
      // Its size and page count are still read; only drawing it is refused.
      expect(await readPdf(makePdf([page]), { render: false })).toEqual({
        pages: 1,
        width: 200,
        height: 100,
      });
    },
  );

  it('renders a page with nothing on it: blank is not broken', async () => {
    const { png } = await readPdf(makePdf([{ width: 200, height: 100, content: '' }]));
    const { channels } = await sharp(png).stats();
    expect(channels.slice(0, 3).map((channel) => channel.min)).toEqual([255, 255, 255]);
  });

  it('ends a render past its time limit (E_PDF_RENDER_TIMEOUT)', async () => {
    const slow = slowPdf();
    expect(slow.length).toBeLessThan(1024 * 1024);
    const { result, cpu } = await cpuOf(() =>
      refusal(() => readPdf(slow, { limits: { renderTimeout: 300 } })),
    );
    expect(result).toEqual({ code: 'E_PDF_RENDER_TIMEOUT', status: 422 });
    expect(cpu).toBeLessThan(20_000_000);
  });
});
