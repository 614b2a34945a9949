/**
 * Sizes on demand: the album page links each photo's large view, a size not made at upload,
 * made the first time someone opens it, behind a signed URL.
 */
import { randomBytes } from 'node:crypto';
import { variantRouter, type Middleware } from '../../src/index.js';
import type { Album, Models } from './models.js';

/** Where the router is mounted. */
export const VARIANTS_PATH = '/variants';
/** The large view's width. */
export const LARGE_WIDTH = 1280;

/**
 * `VARIANT_SECRET` signs the URLs; without it each start draws one, so the URLs of an earlier
 * run stop working (and nothing else does).
 */
const SECRET = process.env.VARIANT_SECRET ?? randomBytes(32).toString('hex');

export function variantRoutes(models: Models): Middleware {
  return variantRouter({
    secret: SECRET,
    allow: [{ width: LARGE_WIDTH, formats: ['webp'] }],
    models: [models.AlbumPhoto],
  });
}

/** The signed URL of a photo's large view (WebP, whatever the original's type). */
export function largeUrl(album: Album, position: number): string {
  return album.photos
    .getImageSet({ position })
    .variantUrl({ width: LARGE_WIDTH, format: 'webp', secret: SECRET, mountPath: VARIANTS_PATH });
}
