/**
 * PDF originals read and rendered by pdf.js in a worker: the first page of a real multi-page
 * document, and the hostile shapes refused within their budgets with their 422 codes.
 */
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
