/**
 * The thumbnail widths the pages show, made at upload so no page ever renders one on demand.
 */
import type { ThumbnailFormat, ThumbnailSize } from '../../src/index.js';

/** Avatars: 128 px, and 256 px for the 2x `srcset`. */
export const AVATAR_WIDTH = 128;
/** The user page's picture: 480 px, and 960 px for 2x. */
export const PICTURE_WIDTH = 480;
/** Album grid cells: 320 px, and 640 px for 2x. */
export const GRID_WIDTH = 320;

export const USER_THUMBNAILS: readonly ThumbnailSize[] = [
  { width: AVATAR_WIDTH },
  { width: AVATAR_WIDTH * 2 },
  { width: PICTURE_WIDTH },
  { width: PICTURE_WIDTH * 2 },
];

export const PHOTO_THUMBNAILS: readonly ThumbnailSize[] = [
  { width: GRID_WIDTH },
  { width: GRID_WIDTH * 2 },
];

/**
 * Album photos are also stored in these formats, offered by the grid's `<picture>`. Not AVIF
 * here: at sharp's default effort it takes ten to thirty times WebP's time to encode a
 * detailed photo, and these are made while the upload waits.
 */
export const PHOTO_FORMATS: readonly ThumbnailFormat[] = ['webp'];

/** How wide the grid shows a photo, for `sizes`: the grid's columns are at most 320 px. */
export const GRID_SIZES = `(min-width: 700px) ${GRID_WIDTH}px, 100vw`;

/** How wide the user page shows the picture, for `sizes`. */
export const PICTURE_SIZES = `(min-width: 520px) ${PICTURE_WIDTH}px, 100vw`;
