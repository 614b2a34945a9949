/**
 * The example app on an S3 store in Chromium: the picture goes from the browser straight to
 * the bucket (`sequelize-imageattach/browser`), the progress bar reaches 100 %, the server
 * checks and attaches it, and a refused file shows the server's message inline. Where Chromium
 * is missing the tests are reported as skipped, with the install command.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as BrowserModule from '../../src/browser.js';
import { INCOMING_FOLDER } from '../../src/s3.js';
import {
  createTestBucket,
  listKeys,
  s3Env,
  serverEnforcesAccess,
  type TestBucket,
} from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';
import { jpeg } from './fixture.js';
import { startServer, type RunningServer } from './server-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FOUND = existsSync(CHROMIUM);
const SUITE = FOUND
  ? 'example app with direct uploads to S3, in Chromium'
  : `example app with direct uploads to S3, in Chromium: SKIPPED, no Chromium at ${CHROMIUM} (install it: apt-get install -y chromium)`;
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

interface ProgressElement {
  value: number;
}
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
};
/** The page's globals the in-page tests use: the browser module, set by a script tag. */
declare const window: { imageattach: typeof BrowserModule };
declare function atob(text: string): string;
declare class DataTransfer {
  readonly items: { add(file: File): void };
}

if (!FOUND) console.warn(`${SUITE}\n`);

describe.skipIf(!FOUND)(SUITE, () => {
  let varDir: { path: string; remove: () => Promise<void> };
  let bucket: TestBucket;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  /** Every upload request the page sent, by host. */
  const posts: string[] = [];

  beforeAll(async () => {
    varDir = await makeTempDir('example-direct');
    bucket = await createTestBucket('direct-app');
    await bucket.client.send(
      new PutBucketCorsCommand({
        Bucket: bucket.name,
        CORSConfiguration: {
          CORSRules: [
            { AllowedOrigins: ['*'], AllowedMethods: ['POST', 'GET'], AllowedHeaders: ['*'] },
          ],
        },
      }),
    );
    const env = s3Env();
    const store = new URL(`s3://${bucket.name}/`);
    store.username = encodeURIComponent(env.accessKeyId);
    store.password = encodeURIComponent(env.secretAccessKey);
    store.search = new URLSearchParams({
      endpoint: env.endpoint,
      forcePathStyle: 'true',
      region: 'us-east-1',
    }).toString();
    [server, browser] = await Promise.all([
      startServer({ VAR_DIR: varDir.path, DATABASE_URL: '', IMAGEATTACH_STORE: store.href }),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS }),
    ]);
    page = await (await browser.newContext({ baseURL: server.url })).newPage();
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(new URL(request.url()).host);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await bucket?.remove();
    await varDir?.remove();
  });

  it('uploads a picture straight to the bucket, the bar reaching 100 %', async () => {
    await page.goto('/');
    await page.fill('#new-name', 'Direct Tester');
    await page.click('form[action="/users"] button[type=submit]');
    await page.waitForURL(/\/users\/\d+$/);
    const id = /\/users\/(\d+)$/.exec(page.url())![1]!;
    expect(await page.locator('form[data-direct]').count()).toBe(1);
    posts.length = 0;

    await page.setInputFiles('input[name=picture]', {
      name: 'me.jpg',
      mimeType: 'image/jpeg',
      buffer: await jpeg(900, 600),
    });
    await page.waitForFunction(
      () => document.querySelector('[data-status]')?.textContent === 'Done',
    );
    expect(
      await page.locator('[data-progress] progress').evaluate((bar: ProgressElement) => bar.value),
    ).toBe(100);
    await page.waitForSelector('img.picture');
    // The file went to S3; the app got the ticket and the completion only.
    const s3Host = new URL(s3Env().endpoint).host;
    const appHost = new URL(server.url).host;
    expect(posts.filter((host) => host === s3Host)).toHaveLength(1);
    expect(posts.filter((host) => host === appHost)).toHaveLength(2);
    const keys = await listKeys(bucket.client, bucket.name);
    expect(keys).toContain(`user-picture/${id}/900x600.jpe`);
    expect(keys.filter((key) => key.startsWith(`${INCOMING_FOLDER}/`))).toEqual([]);
  });

  it('shows the server’s message inline for a file that is no image', async () => {
    await page.setInputFiles('input[name=picture]', {
      name: 'notes.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.from('not an image at all\n'),
    });
    await page.waitForSelector('[data-error]:not([hidden])');
    expect(await page.locator('[data-error]').textContent()).toMatch(/not an image/i);
    const keys = await listKeys(bucket.client, bucket.name);
    expect(keys.filter((key) => key.startsWith(`${INCOMING_FOLDER}/`))).toEqual([]);
  });

  it('shows "too large" inline for a file over maxFileSize, and nothing stays in the bucket', async () => {
    // Over the example's 20 MiB: S3 refuses the post where it enforces the policy (RGW);
    // elsewhere the completion refuses the object, deletes it and answers 413.
    await page.setInputFiles('input[name=picture]', {
      name: 'huge.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.concat([await jpeg(64, 64), Buffer.alloc(21 * 1024 * 1024)]),
    });
    await page.waitForSelector('[data-error]:not([hidden])');
    expect(await page.locator('[data-error]').textContent()).toMatch(
      serverEnforcesAccess() ? /too large; send one of at most 20 MiB/ : /larger than/,
    );
    const keys = await listKeys(bucket.client, bucket.name);
    expect(keys.filter((key) => key.startsWith(`${INCOMING_FOLDER}/`))).toEqual([]);
  });

  it('takes a picture dropped on the zone straight to the bucket too', async () => {
    const id = /\/users\/(\d+)$/.exec(page.url())![1]!;
    const photo = (await jpeg(640, 480)).toString('base64');
    const transfer = await page.evaluateHandle((base64: string) => {
      const data = new DataTransfer();
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
      return data;
    }, photo);
    posts.length = 0;
    await page.dispatchEvent('form[data-direct] [data-dropzone]', 'dragover', {
      dataTransfer: transfer,
    });
    await page.dispatchEvent('form[data-direct] [data-dropzone]', 'drop', {
      dataTransfer: transfer,
    });
    await page.waitForFunction(
      () => document.querySelector('[data-status]')?.textContent === 'Done',
    );
    expect(posts.filter((host) => host === new URL(s3Env().endpoint).host)).toHaveLength(1);
    const keys = await listKeys(bucket.client, bucket.name);
    expect(keys).toContain(`user-picture/${id}/640x480.jpe`);
    expect(keys.filter((key) => key.startsWith(`${INCOMING_FOLDER}/`))).toEqual([]);
  });

  it('uploadDirect reports progress up to 1 exactly when S3 has the file, and rejects clearly', async () => {
    // A string, not a function: Vitest would rewrite a function's import() for Node.
    await page.evaluate(
      "import('/assets/imageattach-browser.js').then((m) => { window.imageattach = m; })",
    );
    const direct = await page.locator('form[data-direct]').getAttribute('data-direct');
    const bytes = (await jpeg(1200, 900)).toString('base64');
    // A port nothing listens on: found free, then closed again.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(probe.address() as { port: number }).port}/`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await page.evaluate(
      async ({ direct, bytes, closed }) => {
        const { uploadDirect, DirectUploadError } = window.imageattach;
        const post = async (url: string, body: unknown) =>
          (await fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body),
          }).then((res) => res.json())) as {
            url: string;
            fields: Record<string, string>;
            token: string;
          };
        const file = new Blob([Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0))]);
        const ticket = await post(direct, {});
        const fractions: number[] = [];
        await uploadDirect(file, { ...ticket, onProgress: (p) => fractions.push(p.fraction) });
        const completed = (await post(`${direct}/complete`, { token: ticket.token })) as unknown;

        // Aborted before it starts, and while it runs: the signal's reason.
        const again = await post(direct, {});
        const early = await uploadDirect(file, { ...again, signal: AbortSignal.abort('early') })
          .then(() => 'resolved')
          .catch((reason: unknown) => reason);
        const controller = new AbortController();
        const late = await uploadDirect(file, {
          ...again,
          signal: controller.signal,
          onProgress: () => controller.abort('late'),
        })
          .then(() => 'resolved')
          .catch((reason: unknown) => reason);
        // S3 unreachable.
        const unreachable = await uploadDirect(file, {
          url: closed,
          fields: again.fields,
        })
          .then(() => 'resolved')
          .catch((error: unknown) =>
            error instanceof DirectUploadError
              ? { name: error.name, status: error.status }
              : String(error),
          );
        // A field the policy pins, changed: S3 refuses the form, if it enforces policies.
        const tampered = await uploadDirect(file, {
          ...(await post(direct, {})),
          fields: { ...again.fields, 'Content-Type': 'text/html' },
        })
          .then(() => 'resolved')
          .catch((error: unknown) =>
            error instanceof DirectUploadError
              ? { name: error.name, status: error.status, s3Code: error.s3Code }
              : String(error),
          );
        return { fractions, completed, early, late, unreachable, tampered };
      },
      { direct: direct!, bytes, closed },
    );
    expect(result.fractions.length).toBeGreaterThan(0);
    expect(result.fractions.at(-1)).toBe(1);
    // 1 only once: every progress before S3's answer stays below it, and none goes back.
    expect(result.fractions.slice(0, -1).every((fraction) => fraction < 1)).toBe(true);
    expect(result.fractions).toEqual([...result.fractions].sort((a, b) => a - b));
    expect(result.completed).toHaveProperty('picture');
    expect(result.early).toBe('early');
    expect(result.late).toBe('late');
    expect(result.unreachable).toEqual({ name: 'DirectUploadError', status: 0 });
    // RGW enforces the policy, answering S3's XML error; s3rver ignores policies.
    expect(result.tampered).toEqual(
      serverEnforcesAccess()
        ? { name: 'DirectUploadError', status: 403, s3Code: 'AccessDenied' }
        : 'resolved',
    );
  });
});
