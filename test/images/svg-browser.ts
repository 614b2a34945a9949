/**
 * The proof is the browser: an SVG loaded in Chromium as a top-level page, from a plain local
 * server that sends no CSP, with every request intercepted. What ran (dialogs, scripts parsed
 * in the page's own world, `window.__pwned`) and what left (every request but the page's own)
 * is reported, so a test can assert nothing did.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FOUND = existsSync(CHROMIUM);
export const CHROMIUM_MISSING = `SKIPPED, no Chromium at ${CHROMIUM} (install it: apt-get install -y chromium)`;
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What one SVG did as a page. */
export interface BrowserVerdict {
  /** Scripts compiled in the page's main world (inline, handler, `javascript:` URL, …). */
  scripts: number;
  dialogs: number;
  /** Whether `window.__pwned` was set (`undefined` when the page navigated away). */
  pwned: boolean | undefined;
  /** Every request but the page's own, each aborted. */
  requests: string[];
  /** Whether the document is an SVG document (not Chromium's XML error page). */
  rendered: boolean;
}

/** Nothing ran and nothing left. */
export function isInert(verdict: BrowserVerdict): boolean {
  return (
    verdict.scripts === 0 &&
    verdict.dialogs === 0 &&
    verdict.pwned === false &&
    verdict.requests.length === 0
  );
}

declare const window: { __pwned?: unknown };
declare const document: { documentElement: { namespaceURI: string | null; localName: string } };

export class SvgBrowser {
  readonly #browser: Browser;
  readonly #context: BrowserContext;
  readonly #server: Server;
  /** What the server serves, by path. */
  readonly #files: Map<string, Buffer>;
  #next = 0;

  private constructor(
    browser: Browser,
    context: BrowserContext,
    server: Server,
    files: Map<string, Buffer>,
  ) {
    this.#browser = browser;
    this.#context = context;
    this.#server = server;
    this.#files = files;
  }

  static async open(): Promise<SvgBrowser> {
    const files = new Map<string, Buffer>();
    // A plain server: the bytes as image/svg+xml and nothing else, no CSP, no nosniff.
    const server = createServer((req, res) => {
      const bytes = files.get(req.url ?? '');
      res.writeHead(bytes === undefined ? 404 : 200, { 'Content-Type': 'image/svg+xml' });
      res.end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 300, height: 300 } });
    return new SvgBrowser(browser, context, server, files);
  }

  /** Loads `bytes` as a page, hovers, clicks and tabs through it, and reports what happened. */
  async load(bytes: Buffer | string): Promise<BrowserVerdict> {
    const { port } = this.#server.address() as AddressInfo;
    const path = `/svg/${(this.#next += 1)}.svg`;
    const url = `http://127.0.0.1:${port}${path}`;
    this.#files.set(path, Buffer.from(bytes));
    const page = await this.#context.newPage();
    const requests: string[] = [];
    let dialogs = 0;
    let scripts = 0;
    try {
      await page.route('**', async (route) => {
        const requested = route.request().url();
        if (requested.split('#')[0] === url) {
          await route.continue();
        } else {
          requests.push(requested);
          await route.abort();
        }
      });
      page.on('websocket', (socket) => requests.push(socket.url()));
      page.on('dialog', (dialog) => {
        dialogs += 1;
        void dialog.dismiss().catch(() => undefined);
      });
      const cdp = await this.#context.newCDPSession(page);
      const mainWorlds = new Set<number>();
      cdp.on('Runtime.executionContextCreated', ({ context }) => {
        const aux = context.auxData as { isDefault?: boolean } | undefined;
        if (aux?.isDefault === true) mainWorlds.add(context.id);
      });
      cdp.on('Debugger.scriptParsed', ({ executionContextId }) => {
        if (mainWorlds.has(executionContextId)) scripts += 1;
      });
      await cdp.send('Runtime.enable');
      await cdp.send('Debugger.enable');
      await page.goto(url, { waitUntil: 'load' });
      // Handlers that wait for the reader: hover, click, focus; animations that start late.
      await page.mouse.move(20, 20);
      await page.mouse.click(20, 20);
      await page.keyboard.press('Tab');
      await page.waitForTimeout(300);
      const counted = scripts;
      await cdp.detach();
      const state = await page
        .evaluate(() => ({
          pwned: window.__pwned !== undefined,
          svg:
            document.documentElement.namespaceURI === 'http://www.w3.org/2000/svg' &&
            document.documentElement.localName === 'svg',
        }))
        .catch(() => undefined);
      return {
        scripts: counted,
        dialogs,
        pwned: state?.pwned,
        requests,
        rendered: state?.svg ?? false,
      };
    } finally {
      this.#files.delete(path);
      await page.close();
    }
  }

  async close(): Promise<void> {
    await this.#browser.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
