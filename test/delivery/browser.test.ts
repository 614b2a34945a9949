/**
 * What the delivery helpers' HTML makes a real browser do (Debian's Chromium, driven by
 * playwright-core): at device pixel ratios 1 and 2 and two viewport widths it fetches the
 * `srcset` candidate `sizes` calls for, and only that one; `<picture>` gets AVIF; the
 * placeholder is painted while the image's bytes are held back; a plain `<img>` of a JPEG
 * gets AVIF from a negotiating store. Where Chromium is missing the tests are reported as
 * skipped, with the install command.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Sequelize } from 'sequelize';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpExposedFileSystemStore } from '../../src/index.js';
import { defineSingleImageModels } from '../models/single-image-models.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FOUND = existsSync(CHROMIUM);
const SUITE = FOUND
  ? 'delivery HTML in Chromium'
  : `delivery HTML in Chromium: SKIPPED, no Chromium at ${CHROMIUM} (install it: apt-get install -y chromium)`;
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
/** 400 CSS pixels wide from 800 px of viewport up, 200 below. */
const SIZES = '(min-width: 800px) 400px, 200px';

// What the callbacks run in the page use of its globals (the tsconfig has no DOM library).
interface ImageElement {
  currentSrc: string;
  naturalWidth: number;
  complete: boolean;
  decode(): Promise<void>;
}
declare function getComputedStyle(element: ImageElement): { backgroundImage: string };

/** Posters with art: formats beside sizes, and a placeholder column. */
const defineModels = (sequelize: Sequelize) => ({
  Poster: defineSingleImageModels(
    sequelize,
    { parent: 'Poster', parentTable: 'posters', set: 'art' },
    { mimetypeInKey: true, placeholder: true },
  ).Parent,
});

if (!FOUND) console.warn(`${SUITE}\n`);

describe.skipIf(!FOUND)(SUITE, () => {
  let db: TestDatabase;
  let dir: { path: string; remove: () => Promise<void> };
  let server: Server;
  let base: string;
  let browser: Browser;
  /** Image requests the server has seen, and those it holds back until released. */
  const held: Array<() => void> = [];
  let holding = false;

  beforeAll(async () => {
    [db, dir, browser] = await Promise.all([
      databaseKinds()[0]!.open(),
      makeTempDir('delivery-browser'),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS }),
    ]);
    const { Poster } = defineModels(db.sequelize);
    await db.reset();
    const pages: Record<string, string> = {};
    const app = express();
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const store = new HttpExposedFileSystemStore({
      path: dir.path,
      negotiate: true,
      hostUrlGetter: () => base,
    });
    const poster = await Poster.create();
    // A red 1600x800 JPEG: sizes of 200, 400 and 800 px, each in JPEG, AVIF and WebP.
    const red = await sharp({
      create: { width: 1600, height: 800, channels: 3, background: { r: 220, g: 20, b: 20 } },
    })
      .jpeg()
      .toBuffer();
    await poster.art.fromBlob(red, { store });
    await poster.art.generateThumbnails([{ width: 200 }, { width: 400 }, { width: 800 }], {
      store,
      formats: ['avif', 'webp'],
    });
    const jpeg400 = await poster.art.findThumbnail({ width: 400, format: 'jpeg' }, { store });
    Object.assign(pages, {
      '/img': await poster.art.toHTML({ store, sizes: SIZES, alt: 'poster' }),
      '/picture': await poster.art.toPictureHTML({ store, sizes: SIZES, alt: 'poster' }),
      '/placeholder': await poster.art.toHTML({ store, widths: [400], placeholder: true }),
      '/bare': await poster.art.toHTML({ store, widths: [400] }),
      '/negotiated': jpeg400.toHTML({ store }),
    });
    app.use((req, _res, next) => {
      if (holding && req.path.startsWith('/images/')) held.push(() => next());
      else next();
    });
    app.use(store.middleware());
    app.get(Object.keys(pages), (req, res) => {
      res.type('html').send(`<!doctype html><body style="margin:0">${pages[req.path]}</body>`);
    });
  });

  afterAll(async () => {
    for (const release of held.splice(0)) release();
    await browser?.close();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
    await db?.close();
    await dir?.remove();
  });

  /** Opens `path` in a fresh context; resolves to the image URLs it requested. */
  async function open(path: string, viewport: number, deviceScaleFactor: number) {
    const context = await browser.newContext({
      viewport: { width: viewport, height: 700 },
      deviceScaleFactor,
    });
    const page = await context.newPage();
    const requested: string[] = [];
    const types: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/images/')) requested.push(request.url());
    });
    page.on('response', (response) => {
      if (response.url().includes('/images/')) types.push(response.headers()['content-type']!);
    });
    // Not `load`: that waits for the images, which a test may be holding back.
    await page.goto(new URL(path, base).href, { waitUntil: 'domcontentloaded' });
    return { context, page, requested, types };
  }

  it.each([
    { viewport: 600, dpr: 1, width: 200 },
    { viewport: 600, dpr: 2, width: 400 },
    { viewport: 1000, dpr: 1, width: 400 },
    { viewport: 1000, dpr: 2, width: 800 },
  ])(
    'at $viewport px and DPR $dpr, <img srcset sizes> fetches the $width px JPEG only',
    async ({ viewport, dpr, width }) => {
      const { context, page, requested } = await open('/img', viewport, dpr);
      try {
        const img = page.locator('img');
        const loaded = await img.evaluate(async (el: ImageElement) => {
          await el.decode();
          return { src: el.currentSrc, width: el.naturalWidth };
        });
        expect(loaded.src).toMatch(new RegExp(`\\.${width}x${width / 2}\\.jpe\\?_ts=\\d+$`));
        // Intrinsic CSS pixels: the candidate's width over its density.
        expect(loaded.width).toBe(width / dpr);
        expect(requested).toEqual([loaded.src]);
      } finally {
        await context.close();
      }
    },
  );

  it.each([
    { viewport: 600, dpr: 2, width: 400 },
    { viewport: 1000, dpr: 2, width: 800 },
  ])(
    '<picture> gets the $width px AVIF at $viewport px, DPR $dpr',
    async ({ viewport, dpr, width }) => {
      const { context, page, requested, types } = await open('/picture', viewport, dpr);
      try {
        const loaded = await page.locator('img').evaluate(async (el: ImageElement) => {
          await el.decode();
          return { src: el.currentSrc, width: el.naturalWidth };
        });
        expect(loaded.src).toMatch(new RegExp(`\\.${width}x${width / 2}\\.avif\\?_ts=\\d+$`));
        expect(loaded.width).toBe(width / dpr);
        expect(requested).toEqual([loaded.src]);
        expect(types).toEqual(['image/avif']);
      } finally {
        await context.close();
      }
    },
  );

  it('a plain <img> of a JPEG gets the AVIF from the negotiating store', async () => {
    const { context, page, requested, types } = await open('/negotiated', 1000, 1);
    try {
      const width = await page.locator('img').evaluate(async (el: ImageElement) => {
        await el.decode();
        return el.naturalWidth;
      });
      expect(width).toBe(400);
      expect(requested).toHaveLength(1);
      expect(requested[0]).toMatch(/\.400x200\.jpe\?_ts=\d+$/);
      expect(types).toEqual(['image/avif']);
    } finally {
      await context.close();
    }
  });

  it('paints the placeholder while the image is held back, then the image', async () => {
    holding = true;
    const shots: Record<string, { r: number; g: number; b: number }> = {};
    try {
      for (const path of ['/placeholder', '/bare']) {
        const { context, page } = await open(path, 1000, 1);
        try {
          await expect.poll(() => held.length).toBe(1);
          const img = page.locator('img');
          const state = await img.evaluate((el: ImageElement) => ({
            complete: el.complete,
            width: el.naturalWidth,
            background: getComputedStyle(el).backgroundImage,
          }));
          expect(state.complete).toBe(false);
          expect(state.width).toBe(0);
          if (path === '/placeholder') {
            expect(state.background).toMatch(/^url\("data:image\/png;base64,/);
          } else {
            expect(state.background).toBe('none');
          }
          shots[path] = await centreColour(await img.screenshot());
          held.shift()!();
          expect(
            await img.evaluate((el: ImageElement) => el.decode().then(() => el.naturalWidth)),
          ).toBe(400);
        } finally {
          await context.close();
        }
      }
    } finally {
      holding = false;
      for (const release of held.splice(0)) release();
    }
    // Red from the ThumbHash of a red image before any byte of it came; nothing without one.
    expect(shots['/placeholder']!.r).toBeGreaterThan(150);
    expect(shots['/placeholder']!.g).toBeLessThan(80);
    expect(shots['/bare']!.r + shots['/bare']!.g + shots['/bare']!.b).toBeGreaterThan(600);
  });
});

/** The mean colour of the middle of a PNG screenshot. */
async function centreColour(png: Buffer): Promise<{ r: number; g: number; b: number }> {
  const image = sharp(png);
  const { width, height } = await image.metadata();
  const middle = await image
    .extract({
      left: Math.floor(width / 4),
      top: Math.floor(height / 4),
      width: Math.floor(width / 2),
      height: Math.floor(height / 2),
    })
    .removeAlpha()
    .stats();
  const [r, g, b] = middle.channels.map((channel) => channel.mean);
  return { r: r!, g: g!, b: b! };
}
