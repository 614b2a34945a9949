/**
 * The example app in a real browser: Debian's Chromium driven by playwright-core, against the
 * app started as `npm start` starts it, with a fresh var folder. Where Chromium is missing the
 * tests are reported as skipped, with the install command.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir.js';
import { jpeg } from './fixture.js';
import { startServer, type RunningServer } from './server-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FOUND = existsSync(CHROMIUM);
const SUITE = FOUND
  ? 'example app in Chromium'
  : `example app in Chromium: SKIPPED, no Chromium at ${CHROMIUM} (install it: apt-get install -y chromium)`;
const OUTPUT = fileURLToPath(new URL('../../test-output/example-app/', import.meta.url));
const PASSWORD = 'browser-test';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// What the callbacks run in the page use of its globals: the tsconfig has no DOM library,
// which would change the types of Node's globals for every file.
interface ImageElement {
  src: string;
  currentSrc: string;
  naturalWidth: number;
  loading: string;
  decode(): Promise<void>;
}
interface ProgressElement {
  value: number;
}
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};
declare class DataTransfer {
  items: { add(file: File): void };
}

if (!FOUND) console.warn(`${SUITE}\n`);

describe.skipIf(!FOUND)(SUITE, () => {
  let varDir: { path: string; remove: () => Promise<void> };
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let userPath = '';

  beforeAll(async () => {
    varDir = await makeTempDir('example-browser');
    await mkdir(OUTPUT, { recursive: true });
    [server, browser] = await Promise.all([
      startServer({
        VAR_DIR: varDir.path,
        DATABASE_URL: '',
        IMAGEATTACH_STORE: '',
        ADMIN_PASSWORD: PASSWORD,
      }),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS }),
    ]);
    context = await browser.newContext({
      baseURL: server.url,
      viewport: { width: 1200, height: 900 },
      httpCredentials: { username: 'admin', password: PASSWORD },
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await varDir?.remove();
  });

  const shoot = (name: string) =>
    page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });

  it('adds a user and uploads a picture through the form, the bar reaching 100 %', async () => {
    await page.goto('/');
    await shoot('home');
    await page.fill('#new-name', 'Browser Tester');
    await page.click('form[action="/users"] button[type=submit]');
    await page.waitForURL(/\/users\/\d+$/);
    userPath = new URL(page.url()).pathname;
    await expect.poll(() => page.locator('[data-progress]').isHidden()).toBe(true);

    await page.setInputFiles('input[name=picture]', {
      name: 'me.jpg',
      mimeType: 'image/jpeg',
      buffer: await jpeg(800, 800),
    });
    await page.waitForFunction(
      () => document.querySelector('[data-status]')?.textContent === 'Done',
    );
    expect(
      await page.locator('[data-progress] progress').evaluate((bar: ProgressElement) => bar.value),
    ).toBe(100);
    await page.waitForSelector('img.picture');
    await expectAllImagesLoaded(page);
    expect(await page.locator('#sizes td code').allTextContents()).toEqual(
      Array(5).fill('image/jpeg'),
    );
    await shoot('user');

    await page.goto('/');
    const avatar = page.locator('img.avatar[alt="Browser Tester"]');
    await avatar.waitFor();
    const loaded = await avatar.evaluate(async (img: ImageElement) => {
      await img.decode();
      return { width: img.naturalWidth, src: img.currentSrc };
    });
    expect(loaded.width).toBeGreaterThan(0);
    expect(loaded.src).toMatch(/[?&]_ts=\d{20}$/);
  });

  it('shows the error of a non-image inline, next to the form', async () => {
    await page.goto(userPath);
    await page.setInputFiles('input[name=picture]', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('these are notes, not a picture\n'),
    });
    const error = page.locator('form[data-upload] [data-error]');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/not an image/i);
    await shoot('user-error');
  });

  it('uploads three photos to an album at once by drag and drop', async () => {
    await page.goto('/albums');
    await page.fill('#new-title', 'Dropped');
    await page.click('form[action="/albums"] button[type=submit]');
    await page.waitForURL(/\/albums\/\d+$/);
    const photos = await Promise.all([jpeg(600, 400), jpeg(640, 400), jpeg(700, 400)]);
    const transfer = await page.evaluateHandle(
      (files: string[]) => {
        const data = new DataTransfer();
        files.forEach((base64, index) => {
          const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          data.items.add(new File([bytes], `photo-${index}.jpg`, { type: 'image/jpeg' }));
        });
        return data;
      },
      photos.map((photo) => photo.toString('base64')),
    );
    // One request per photo, all sent before any is answered: three uploads at once, which
    // the app's SQLite database (without a retry option) takes in turns.
    const events: string[] = [];
    const isUpload = (request: { method(): string; url(): string }) =>
      request.method() === 'POST' && /\/api\/albums\/\d+\/photos$/.test(request.url());
    page.on('request', (request) => {
      if (isUpload(request)) events.push('sent');
    });
    page.on('requestfinished', (request) => {
      if (isUpload(request)) events.push('answered');
    });
    await page.dispatchEvent('[data-dropzone]', 'dragover', { dataTransfer: transfer });
    await page.dispatchEvent('[data-dropzone]', 'drop', { dataTransfer: transfer });
    await page.waitForFunction(() => document.querySelectorAll('#photos figure').length === 3);
    await page.waitForFunction(
      () => document.querySelector('[data-status]')?.textContent === 'Done',
    );
    expect(events).toEqual(['sent', 'sent', 'sent', 'answered', 'answered', 'answered']);
    expect(await page.locator('[data-error]').first().isHidden()).toBe(true);
    expect(await page.locator('#head .lede').textContent()).toContain('3 photos');
    await expectAllImagesLoaded(page);
    await shoot('album');
  });

  it('migrates to a second folder store from the admin page, then every image loads from it', async () => {
    await page.goto('/admin');
    await shoot('admin');
    const target = join(varDir.path, 'second');
    await page.fill('#target', `${pathToFileURL(target).href}?prefix=images-b/`);
    await page.click('#migrate button[type=submit]');
    await page.waitForSelector('[data-migration][data-finished]');
    const bar = await page
      .locator('[data-migration] progress')
      .evaluate((el: ProgressElement) => el.value);
    expect(bar).toBe(100);
    expect(await page.locator('[data-count=failed]').textContent()).toBe('0');
    expect(Number(await page.locator('[data-count=migrated]').textContent())).toBeGreaterThan(20);
    expect(await page.locator('[data-migration] [data-status]').textContent()).toContain(
      'now served from',
    );
    await shoot('admin-migrated');

    // Without the old folder, only the new store can serve the images.
    await rm(join(varDir.path, 'images'), { recursive: true });
    for (const path of ['/', userPath, '/albums', '/albums/1']) {
      await page.goto(path);
      const sources = await page
        .locator('main img')
        .evaluateAll((imgs: ImageElement[]) => imgs.map((img) => img.src));
      expect(sources.length).toBeGreaterThan(0);
      for (const src of sources) expect(src).toContain('/images-b/');
      await expectAllImagesLoaded(page);
    }
    await page.goto('/');
    await shoot('home-after-migration');
  });
});

/** Waits for every image of the page and expects each to have decoded. */
async function expectAllImagesLoaded(page: Page): Promise<void> {
  const results = await page.locator('main img').evaluateAll(async (imgs: ImageElement[]) =>
    Promise.all(
      imgs.map(async (img) => {
        img.loading = 'eager';
        await img.decode().catch(() => undefined);
        return { src: img.currentSrc || img.src, width: img.naturalWidth };
      }),
    ),
  );
  expect(results.filter((result) => result.width === 0)).toEqual([]);
}
