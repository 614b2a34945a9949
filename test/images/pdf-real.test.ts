/**
 * A real multi-page PDF, not one written by hand: Chromium prints three pages (red, green,
 * blue, each with text in an embedded font and a link) through Skia's PDF writer, with
 * compressed streams, font subsets and an /Info dictionary. Its structure passes the checks
 * made before pdf.js, and its first page, text and all, is what is rendered. Where Chromium
 * is missing the tests are reported as skipped, with the install command.
 */
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPdf } from '../../src/images/pdf-render.js';
import { findPdfStructureProblem } from '../../src/images/pdf-structure.js';
import { CHROMIUM, CHROMIUM_FOUND, CHROMIUM_MISSING } from './svg-browser.js';

const COLOURS = ['#ff0000', '#00ff00', '#0000ff'];
/** 400x300 CSS pixels a page: 300x225 points. */
const PAGE = { width: 400, height: 300 };

/** Three pages printed by Chromium, the first red with black text in its top left corner. */
async function printedPdf(): Promise<Buffer> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const style =
      `@page { size: ${PAGE.width}px ${PAGE.height}px; margin: 0 } body { margin: 0 } ` +
      `section { width: ${PAGE.width}px; height: ${PAGE.height}px; overflow: hidden; ` +
      'break-after: page; font: 32px serif; color: black } ' +
      'section:last-child { break-after: auto } p { margin: 8px } a { color: black }';
    const sections = COLOURS.map(
      (colour, at) =>
        `<section style="background: ${colour}"><p>Page ${at + 1}, <b>bold</b> and ` +
        `<a href="https://example.com/">a link</a></p></section>`,
    );
    await page.setContent(`<!doctype html><style>${style}</style>${sections.join('')}`);
    return await page.pdf({ printBackground: true, preferCSSPageSize: true });
  } finally {
    await browser.close();
  }
}

if (!CHROMIUM_FOUND) console.warn(`a PDF printed by Chromium: ${CHROMIUM_MISSING}\n`);

describe.skipIf(!CHROMIUM_FOUND)(
  CHROMIUM_FOUND ? 'a PDF printed by Chromium' : `a PDF printed by Chromium: ${CHROMIUM_MISSING}`,
  () => {
    let pdf: Buffer;
    beforeAll(async () => {
      pdf = await printedPdf();
    });

    it('is a real PDF of three pages, whose structure passes the checks', async () => {
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdf.toString('latin1')).toMatch(/\/FlateDecode/);
      expect(findPdfStructureProblem(pdf)).toBeUndefined();
      expect(await readPdf(pdf, { render: false })).toEqual({ pages: 3, width: 300, height: 225 });
    });

    it('renders its first page: red, with its text drawn, none of the other pages', async () => {
      const { png, width, height } = await readPdf(pdf, { bound: { width: 240, height: 180 } });
      expect({ width, height }).toEqual({ width: 300, height: 225 });
      const { data, info } = await sharp(png)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect(info.width).toBeGreaterThanOrEqual(240);
      expect(info.width / info.height).toBeCloseTo(300 / 225, 1);
      const pixel = (x: number, y: number) => {
        const at = (y * info.width + x) * 3;
        return [data[at]!, data[at + 1]!, data[at + 2]!];
      };
      // The page's colour away from the text, at the bottom right.
      expect(pixel(info.width - 4, info.height - 4)).toEqual([255, 0, 0]);
      let dark = 0;
      let otherPage = 0;
      for (let y = 0; y < info.height; y += 1) {
        for (let x = 0; x < info.width; x += 1) {
          const [r, g, b] = pixel(x, y);
          if (r! < 80 && g! < 80 && b! < 80) dark += 1;
          // Green or blue: the second or third page.
          if (r! < 100 && (g! > 160 || b! > 160)) otherPage += 1;
        }
      }
      // The line of text on top: glyphs of the embedded font, drawn.
      expect(dark).toBeGreaterThan(100);
      expect(otherPage).toBe(0);
    });
  },
);
