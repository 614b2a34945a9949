/**
 * The SVG check against hostile and benign files: every evasion refused with its problem,
 * every benign drawing accepted, and every accepted file proved inert in Chromium (loaded as a
 * page from a server that sends no CSP, every request intercepted), beside controls that show
 * the harness sees a script run and a request leave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSvgProblem } from '../../src/images/svg-safety.js';
import { findCssProblem } from '../../src/images/svg-css.js';
import { BENIGN } from './svg-benign.js';
import {
  CHROMIUM_FOUND,
  CHROMIUM_MISSING,
  isInert,
  SvgBrowser,
  type BrowserVerdict,
} from './svg-browser.js';
import { ENCODING_EVASIONS, EVASIONS, svg } from './svg-evasions.js';

describe('findSvgProblem on the evasion corpus', () => {
  it('has at least 80 cases, each named once', () => {
    expect(EVASIONS.length).toBeGreaterThanOrEqual(80);
    expect(new Set(EVASIONS.map((c) => c.name)).size).toBe(EVASIONS.length);
  });

  it.each(EVASIONS.map((c) => [c.name, c] as const))('refuses %s', (_name, { svg, problem }) => {
    expect(findSvgProblem(Buffer.from(svg))).toBe(problem);
  });

  it.each(ENCODING_EVASIONS.map((c) => [c.name, c.bytes] as const))(
    'refuses %s as encoding',
    (_name, bytes) => {
      expect(findSvgProblem(bytes)).toBe('encoding');
    },
  );
});

describe('findSvgProblem on benign drawings', () => {
  it('has at least 20 of them', () => {
    expect(BENIGN.length).toBeGreaterThanOrEqual(20);
  });

  it.each(BENIGN.map((b) => [b.name, b.svg] as const))('accepts %s', (_name, document) => {
    expect(findSvgProblem(Buffer.from(document))).toBeUndefined();
  });

  it('accepts a UTF-8 BOM, an XML declaration, comments and the predefined entities', () => {
    const text = `\ufeff<?xml version="1.0" encoding="UTF-8"?><!-- a --><!-- b -->${svg(
      '<text>&lt;&amp;&gt;&quot;&apos;&#169;&#x2603;</text>',
    )}`;
    expect(findSvgProblem(Buffer.from(text))).toBeUndefined();
  });
});

describe('findSvgProblem on the largest documents', () => {
  // Bounds, not timings: a quadratic step would take minutes on these, not seconds.
  const cpuSeconds = (run: () => void) => {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1e6;
  };

  it('judges 1 MiB of styles, url(#…) references and shapes within 5 s of CPU', () => {
    const rules = 'a{fill:url("#a")}'.repeat(40_000);
    const shapes = '<rect style="fill:url(#a)" fill="url(#b)"/>'.repeat(8_000);
    const document = Buffer.from(svg(`<style>${rules}</style>${shapes}`));
    let problem: string | undefined = 'not run';
    expect(cpuSeconds(() => (problem = findSvgProblem(document)))).toBeLessThan(5);
    expect(problem).toBeUndefined();
  });

  it('refuses nesting beyond 256 levels within 5 s of CPU', () => {
    const document = Buffer.from(svg(`${'<g>'.repeat(150_000)}${'</g>'.repeat(150_000)}`));
    let problem: string | undefined;
    expect(cpuSeconds(() => (problem = findSvgProblem(document)))).toBeLessThan(5);
    expect(problem).toBe('nesting');
    const deepest = svg(`${'<g>'.repeat(255)}${'</g>'.repeat(255)}`);
    expect(findSvgProblem(Buffer.from(deepest))).toBeUndefined();
  });
});

describe('findCssProblem', () => {
  it.each([
    ['fill: url(#g)', undefined],
    ['fill: url( "#g" )', undefined],
    ['fill: URL(#g)', undefined],
    ['transform: translateX(2px) rotate(3deg)', undefined],
    ['color: rgb(1 2 3 / 50%)', undefined],
    ['fill: url(/**/#g)', 'external-reference'],
    ['fill: url("#g" x)', 'external-reference'],
    ['fill: url(#g', 'css-syntax'],
    ['@\\69 mport "x"', 'css-at-rule'],
    ['fill: \\75 \\72 \\6c (x)', 'external-reference'],
    ['fill: src("x")', 'css-function'],
    ['fill: env(x)', 'css-function'],
  ] as const)('judges %j as %s', (css, problem) => {
    expect(findCssProblem(css)).toBe(problem);
  });
});

describe.skipIf(!CHROMIUM_FOUND)(
  CHROMIUM_FOUND ? 'accepted SVGs in Chromium' : `accepted SVGs in Chromium: ${CHROMIUM_MISSING}`,
  () => {
    let browser: SvgBrowser;
    beforeAll(async () => {
      browser = await SvgBrowser.open();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('sees a script run and a request leave in known-malicious SVGs (the controls)', async () => {
      const script = await browser.load(svg('<script>window.__pwned = 1</script>'));
      expect(script).toMatchObject({ pwned: true, rendered: true });
      expect(script.scripts).toBeGreaterThan(0);
      const handler = await browser.load(
        svg('<rect width="40" height="40"/>', ' onload="alert(1)"'),
      );
      expect(handler.dialogs).toBe(1);
      const image = await browser.load(
        svg('<image href="http://evil.test/x.png" width="9" height="9"/>'),
      );
      expect(image.requests).toEqual(['http://evil.test/x.png']);
      const css = await browser.load(svg('<style>@import "http://evil.test/x.css";</style>'));
      expect(css.requests).toEqual(['http://evil.test/x.css']);
      for (const verdict of [script, handler, image, css]) expect(isInert(verdict)).toBe(false);
    });

    it('finds every benign drawing inert: no script, no dialog, no request', async () => {
      const verdicts: [string, BrowserVerdict][] = [];
      for (const { name, svg: document } of BENIGN) {
        verdicts.push([name, await browser.load(document)]);
      }
      for (const [name, verdict] of verdicts) {
        expect(verdict, name).toEqual({
          scripts: 0,
          dialogs: 0,
          pwned: false,
          requests: [],
          rendered: true,
        });
      }
    }, 120_000);

    it('finds any evasion the check accepts inert (none is accepted today)', async () => {
      const accepted = EVASIONS.filter((c) => findSvgProblem(Buffer.from(c.svg)) === undefined);
      for (const { name, svg: document } of accepted) {
        expect(isInert(await browser.load(document)), name).toBe(true);
      }
      expect(accepted).toEqual([]);
    });
  },
);
