/**
 * The only references a safe SVG may hold: fragments of the same document, and (in `<image>`)
 * inline rasters, which are data a browser decodes as a picture, never as a document.
 */

/** What a URL parser strips from both ends of a URL: C0 controls and spaces. */
// eslint-disable-next-line no-control-regex -- controls are exactly what URL parsers strip
const URL_EDGES = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;

/** Raster data URLs; `image/svg+xml` and every other type are refused. */
const RASTER_DATA_URL = /^data:image\/(?:png|jpeg|gif|webp)(?:;base64)?,[A-Za-z0-9+/=%\s]*$/i;

/** Whether `url` points into the same document: `#id`, after what URL parsers strip. */
export function isFragmentReference(url: string): boolean {
  return url.replace(URL_EDGES, '').startsWith('#');
}

/** Whether `url` is an inline PNG, JPEG, GIF or WebP (`data:image/png;base64,…`). */
export function isRasterDataUrl(url: string): boolean {
  return RASTER_DATA_URL.test(url.replace(URL_EDGES, ''));
}
