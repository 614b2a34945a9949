/**
 * The HTML the README's "Delivering images" section shows is the HTML the helpers write: each
 * ```ts block there followed by an ```html (or ```text) block is run against the product the
 * section describes, and what it returns must be the block after it, so the examples cannot
 * drift from the code.
 *
 * Conventions of those pairs (the README states the last two):
 * - the ts block's last statement starting at the left margin is its value (`return`ed);
 *   `product` is in scope, and URLs come from the section's store (the current store);
 * - in the html block, a line break and the indentation after it stand for one space, or for
 *   nothing next to a tag (`>` before it, `<` after it);
 * - `_ts=…` stands for a row's time, and a placeholder's base64 is cut to its first 11
 *   characters and `…`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type { Sequelize } from 'sequelize';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemStore, storeContext } from '../../src/index.js';
import { defineSingleImageModels } from '../models/single-image-models.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECTION = '## Delivering images';
const BASE_URL = 'https://cdn.example/';

/** One example: the code, the output the README shows for it, and where. */
interface HtmlExample {
  /** The README line of the code's first line. */
  line: number;
  code: string;
  shown: string;
}

/** The ts blocks of `section` each followed by an html or text block. */
function htmlExamples(markdown: string): HtmlExample[] {
  const start = markdown.indexOf(`\n${SECTION}\n`);
  if (start < 0) return [];
  const end = markdown.indexOf('\n## ', start + SECTION.length + 2);
  const before = markdown.slice(0, start + 1).split('\n').length - 1;
  const lines = markdown.slice(start + 1, end < 0 ? undefined : end).split('\n');
  const fences: Array<{ lang: string; line: number; body: string[] }> = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (open === null) {
      if (lines[i]!.trim() !== '') fences.push({ lang: '', line: i, body: [] });
      continue;
    }
    const body: string[] = [];
    const line = i + 1;
    for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i]!); i += 1) body.push(lines[i]!);
    fences.push({ lang: open[1]!, line, body });
  }
  const examples: HtmlExample[] = [];
  for (let i = 0; i + 1 < fences.length; i += 1) {
    const [code, output] = [fences[i]!, fences[i + 1]!];
    if (code.lang === 'ts' && (output.lang === 'html' || output.lang === 'text')) {
      examples.push({
        line: before + code.line + 1,
        code: code.body.join('\n'),
        shown: unwrap(output.body),
      });
    }
  }
  return examples;
}

/** The README's wrapped lines as the one line the helpers write. */
function unwrap(lines: readonly string[]): string {
  let text = lines[0]?.trim() ?? '';
  for (const line of lines.slice(1)) {
    const next = line.trim();
    text += text.endsWith('>') || next.startsWith('<') ? next : ` ${next}`;
  }
  return text;
}

/** What changes from run to run, as the README writes it. */
function abridged(html: string): string {
  return html
    .replace(/_ts=\d+/g, '_ts=…')
    .replace(/(;base64,[A-Za-z0-9+/]{11})[A-Za-z0-9+/=]*/g, '$1…');
}

/** The example's code as an async function of `product`, returning its value. */
function asFunction(example: HtmlExample): (product: unknown) => Promise<unknown> {
  const lines = example.code.split('\n');
  const last = lines.findLastIndex((line) => /^[^\s})\]]/.test(line));
  lines[last] = `return ${lines[last]!}`;
  const source = `(async (product) => {\n${lines.join('\n')}\n})`;
  // Named after the README line, so that an error in an example points at it.
  const script = new Script(source, { filename: `README.md:${example.line}` });
  return script.runInThisContext() as (product: unknown) => Promise<unknown>;
}

/** The section's models, as its first example defines them. */
const defineProductModels = (sequelize: Sequelize) => ({
  Product: defineSingleImageModels(
    sequelize,
    { parent: 'Product', set: 'photo' },
    { mimetypeInKey: true, placeholder: true },
  ).Parent,
});

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const examples = htmlExamples(readme);

describe('README "Delivering images": each helper with the HTML it produces', () => {
  let db: TestDatabase;
  let dir: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;
  let product: unknown;

  beforeAll(async () => {
    [db, dir] = await Promise.all([databaseKinds()[0]!.open(), makeTempDir('readme-html')]);
    const { Product } = defineProductModels(db.sequelize);
    await db.reset();
    store = new FileSystemStore({ path: dir.path, baseUrl: BASE_URL });
    // The section's product: a JPEG original of 1200x1896 with its 480 and 960 wide sizes in
    // JPEG, AVIF and WebP.
    const created = await Product.create();
    const teapot = await sharp({
      create: { width: 1200, height: 1896, channels: 3, background: { r: 40, g: 90, b: 180 } },
    })
      .jpeg()
      .toBuffer();
    await created.photo.fromBlob(teapot, { store });
    await created.photo.generateThumbnails([{ width: 480 }, { width: 960 }], {
      store,
      formats: ['avif', 'webp'],
    });
    product = created;
  });

  afterAll(async () => {
    await db?.close();
    await dir?.remove();
  });

  it('shows an image’s toHTML, and a set’s srcset, toHTML, toPictureHTML with a placeholder and variantUrl', () => {
    const calls = examples.map((example) => example.code).join('\n');
    for (const helper of [
      /\bphoto\.toHTML\(/,
      /\.photo\.srcset\(/,
      /\.photo\.toHTML\(/,
      /\.photo\.toPictureHTML\(/,
      /placeholder: true/,
      /\.photo\.variantUrl\(/,
    ]) {
      expect(calls).toMatch(helper);
    }
  });

  it('the unwrapping reads a wrapped tag as the one line it stands for', () => {
    expect(
      unwrap([
        '<picture>',
        '  <source type="a"',
        '    srcset="b 1w,',
        '      c 2w">',
        '</picture>',
      ]),
    ).toBe('<picture><source type="a" srcset="b 1w, c 2w"></picture>');
  });

  it.each(examples.map((example) => [example.line, example] as const))(
    'the example at README.md:%i gives the HTML shown after it',
    async (_line, example) => {
      const value = await storeContext(store, () => asFunction(example)(product));
      expect(typeof value).toBe('string');
      expect(abridged(value as string)).toBe(example.shown);
    },
  );
});
