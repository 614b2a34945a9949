/**
 * The HTML helpers: an image's `toHTML` with attributes, a set's `srcset`, `toHTML` and
 * `toPictureHTML` from the sizes and formats it has, and ThumbHash placeholders filled when
 * an original is stored and painted by `toHTML({ placeholder: true })`.
 */
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { Sequelize } from 'sequelize';
import { thumbHashToAverageRGBA } from 'thumbhash';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FileSystemStore, storeContext } from '../../src/index.js';
import { jpeg, svg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineSingleImageModels } from './single-image-models.js';

/** Albums with a cover: formats beside sizes, and a placeholder column. */
const defineHtmlModels = (sequelize: Sequelize) => ({
  Album: defineSingleImageModels(
    sequelize,
    { parent: 'Album', parentTable: 'albums', set: 'cover' },
    { mimetypeInKey: true, placeholder: true },
  ).Parent,
});

describe.each(databaseKinds())('HTML helpers on $name', (kind) => {
  let db: TestDatabase;
  let models: ReturnType<typeof defineHtmlModels>;
  let dir: { path: string; remove: () => Promise<void> };
  let store: FileSystemStore;

  beforeAll(async () => {
    db = await kind.open();
    models = defineHtmlModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.reset();
    dir = await makeTempDir('html');
    store = new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/i/' });
  });
  afterEach(() => dir.remove());

  /** An album whose cover is a 400x200 red JPEG with 100 and 200 wide sizes in 3 formats. */
  async function album() {
    const created = await models.Album.create();
    await created.cover.fromBlob((await jpeg(400, 200, 220)).bytes, { store });
    await created.cover.generateThumbnails([{ width: 100 }, { width: 200 }], {
      store,
      formats: ['avif', 'webp'],
    });
    return created;
  }

  const url = async (a: InstanceType<typeof models.Album>, width: number, format?: 'avif') =>
    (await a.cover.findThumbnail({ width, format }, { store })).locate({ store });

  test('srcset lists every width of the format, narrowest first', async () => {
    const a = await album();
    const [u100, u200, u400] = [await url(a, 100), await url(a, 200), await url(a, 400)];
    expect(u100).toMatch(/^http:\/\/x\.test\/i\/album-cover\/.*\.100x50\.jpe\?_ts=\d+$/);
    expect(await a.cover.srcset({ store })).toBe(`${u100} 100w, ${u200} 200w, ${u400} 400w`);
    expect(await a.cover.srcset({ store, widths: [200, 100, 999] })).toBe(
      `${u100} 100w, ${u200} 200w`,
    );
    const avif = await a.cover.srcset({ store, format: 'avif' });
    expect(avif).toBe(`${await url(a, 100, 'avif')} 100w, ${await url(a, 200, 'avif')} 200w`);
    expect(avif).toMatch(/\.100x50\.avif\?_ts=\d+ 100w, .*\.200x100\.avif\?_ts=\d+ 200w$/);
    expect(await a.cover.srcset({ store, format: 'png' })).toBe('');
    // With the current store, as the other URL helpers.
    expect(await storeContext(store, () => a.cover.srcset())).toBe(
      `${u100} 100w, ${u200} 200w, ${u400} 400w`,
    );
  });

  test('toHTML: <img src srcset sizes width height> with the attributes, escaped', async () => {
    const a = await album();
    const [u100, u200, u400] = [await url(a, 100), await url(a, 200), await url(a, 400)];
    const html = await a.cover.toHTML({
      store,
      sizes: '(min-width: 800px) 50vw, 100vw',
      alt: 'A "red" <cover> & more',
      loading: 'lazy',
      decoding: 'async',
      attributes: { 'data-id': 7, hidden: false, draggable: true },
    });
    expect(html).toBe(
      `<img src="${u400}" srcset="${u100} 100w, ${u200} 200w, ${u400} 400w" ` +
        'sizes="(min-width: 800px) 50vw, 100vw" width="400" height="200" ' +
        'alt="A &quot;red&quot; &lt;cover&gt; &amp; more" loading="lazy" decoding="async" ' +
        'data-id="7" draggable>',
    );
    // One width asked for: it is the src, and there is nothing to choose from.
    expect(await a.cover.toHTML({ store, widths: [100] })).toBe(
      `<img src="${u100}" width="400" height="200">`,
    );
  });

  test('toPictureHTML: a <source type> per format the set has, then the <img>', async () => {
    const a = await album();
    const img = await a.cover.toHTML({ store, sizes: '50vw', alt: '' });
    const avif = await a.cover.srcset({ store, format: 'avif' });
    const webp = await a.cover.srcset({ store, format: 'webp' });
    expect(await a.cover.toPictureHTML({ store, sizes: '50vw', alt: '' })).toBe(
      `<picture><source type="image/avif" srcset="${avif}" sizes="50vw">` +
        `<source type="image/webp" srcset="${webp}" sizes="50vw">${img}</picture>`,
    );
    expect(await a.cover.toPictureHTML({ store, formats: ['webp', 'png'] })).toBe(
      `<picture><source type="image/webp" srcset="${webp}">${await a.cover.toHTML({ store })}</picture>`,
    );
  });

  test('an empty set renders nothing', async () => {
    const empty = await models.Album.create();
    expect(await empty.cover.srcset({ store })).toBe('');
    expect(await empty.cover.toHTML({ store, sizes: '100vw' })).toBe('');
    expect(await empty.cover.toPictureHTML({ store })).toBe('');
  });

  test('an SVG original: its PNG sizes make the srcset, the widest the src', async () => {
    const a = await models.Album.create();
    await a.cover.fromBlob(svg().bytes, { store });
    expect(await a.cover.toHTML({ store })).toMatch(/^<img src="[^"]*\.450x450\.svg\?_ts=\d+"/);
    await a.cover.generateThumbnails([{ width: 100 }, { width: 200 }], { store });
    const html = await a.cover.toHTML({ store });
    const widest = (await a.cover.findThumbnail({ width: 200 }, { store })).locate({ store });
    expect(html).toMatch(/srcset="[^"]*\.png\?_ts=\d+ 100w, [^"]*\.png\?_ts=\d+ 200w"/);
    expect(html).toContain(`src="${widest}"`);
    expect(html).toContain('width="450" height="450"');
  });

  test('bad options are InvalidOptionErrors naming the option', async () => {
    const a = await album();
    const cases: Array<[object, string]> = [
      [{ loading: 'soon' }, 'loading'],
      [{ decoding: 1 }, 'decoding'],
      [{ widths: [0] }, 'widths'],
      [{ sizes: 3 }, 'sizes'],
      [{ formats: ['gif', 'svg'] }, 'formats'],
      [{ attributes: { srcset: 'x' } }, 'attributes'],
      [{ attributes: { 'a"b': 'x' } }, 'attributes'],
      [{ attributes: { onload: {} } }, 'attributes'],
      [{ placeholder: 'yes' }, 'placeholder'],
    ];
    for (const [options, option] of cases) {
      await expect(a.cover.toPictureHTML({ store, ...options })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        option,
      });
    }
    await expect(a.cover.srcset({ store, format: 'svg' as never })).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      option: 'format',
    });
    const original = (await a.cover.original())!;
    expect(() => original.toHTML({ store, loading: 'never' as never })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', option: 'loading' }),
    );
  });

  test('an image toHTML takes the same attributes', async () => {
    const a = await album();
    const thumbnail = await a.cover.findThumbnail({ width: 100, format: 'webp' }, { store });
    expect(thumbnail.toHTML({ store, alt: "it's", class: 'a b', fetchpriority: 'high' })).toBe(
      `<img src="${thumbnail.locate({ store })}" width="100" height="50" alt="it&#39;s" ` +
        'class="a b" fetchpriority="high">',
    );
  });

  test('the original gets a ThumbHash of its pixels; its thumbnails none', async () => {
    const a = await album();
    const original = (await a.cover.original())!;
    const hash = Buffer.from(original.placeholder!, 'base64');
    expect(hash.length).toBeGreaterThan(5);
    expect(hash.length).toBeLessThan(40);
    // The JPEG is one red: so is the placeholder.
    const { r, g, b } = thumbHashToAverageRGBA(hash);
    expect(r).toBeGreaterThan(0.75);
    expect(g).toBeLessThan(0.15);
    expect(b).toBeLessThan(0.15);
    const thumbnail = await a.cover.findThumbnail({ width: 100 }, { store });
    expect(thumbnail.placeholder).toBeNull();
  });

  test('toHTML({ placeholder: true }) paints the ThumbHash as a data-URL background', async () => {
    const a = await album();
    const html = await a.cover.toHTML({ store, placeholder: true, attributes: { style: 'x:y' } });
    const style = /style="([^"]*)"/.exec(html)?.[1];
    expect(style).toMatch(
      /^background-image:url\(&quot;data:image\/png;base64,[A-Za-z0-9+/=]+&quot;\);background-size:100% 100%;background-repeat:no-repeat;x:y$/,
    );
    expect(await a.cover.toHTML({ store })).not.toContain('style=');
    const original = (await a.cover.original())!;
    expect(original.toHTML({ store, placeholder: true })).toContain('data:image/png;base64,');
    // A thumbnail has no placeholder of its own: nothing is painted.
    const thumbnail = await a.cover.findThumbnail({ width: 100 }, { store });
    expect(thumbnail.toHTML({ store, placeholder: true })).not.toContain('style=');
  });

  test('fromRawFile fills the placeholder from a path or bytes, not from a stream', async () => {
    const red = await jpeg(40, 20, 220);
    const path = join(dir.path, 'red.jpg');
    await writeFile(path, red.bytes);
    const raw = { store, width: 40, height: 20, mimetype: 'image/jpeg' };
    const a = await models.Album.create();
    expect((await a.cover.fromRawFile(path, raw)).placeholder).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect((await a.cover.fromRawFile(red.bytes, raw)).placeholder).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const streamed = await a.cover.fromRawFile(Readable.from([red.bytes]), raw);
    expect(streamed.placeholder ?? null).toBeNull();
    // Bytes sharp cannot decode are stored as given, without a placeholder.
    const junk = await a.cover.fromRawFile(Buffer.from('not an image'), raw);
    expect(junk.placeholder ?? null).toBeNull();
    expect((await a.cover.original())?.placeholder ?? null).toBeNull();
  });
});
