/**
 * Rows to what pages and the JSON API show: each image as its URL, size and type, grouped
 * into the picture of a user or the photos of an album.
 */
import type { Image, Store } from '../../src/index.js';
import type { Album, AlbumPhoto, Models, User, UserPicture } from './models.js';
import { largeUrl } from './variants.js';
import { GRID_SIZES, GRID_WIDTH, PHOTO_FORMATS } from './sizes.js';

/** The types stored beside the thumbnails' own for `<picture>`, not listed as sizes. */
const ALTERNATE_TYPES = PHOTO_FORMATS.map((format) => `image/${format}`);

export interface ImageView {
  url: string;
  width: number;
  height: number;
  mimetype: string;
  /** A thumbnail a worker has not made yet (the original is shown meanwhile). */
  pending?: true;
}

/** An original and its thumbnails, smallest first. */
export interface PictureView {
  original: ImageView;
  thumbnails: ImageView[];
  /** The thumbnails' copies in other formats (WebP beside JPEG), for `<picture>`. */
  alternates?: ImageView[];
}

export interface UserView {
  id: number;
  name: string;
  picture: PictureView | null;
}

export interface PhotoView extends PictureView {
  position: number;
  /** The signed URL of its large view, made on first request (see variants.ts). */
  large: string;
}

export interface AlbumView {
  id: number;
  title: string;
  photos: PhotoView[];
}

export function imageView(image: Image, store: Store): ImageView {
  const { width, height, mimetype } = image;
  return { url: image.locate({ store }), width, height, mimetype };
}

/** The images of one set (any order) as a picture, or `null` without an original. */
export function pictureView(images: readonly Image[], store: Store): PictureView | null {
  const original = images.find((image) => image.original);
  if (original === undefined) return null;
  // The WebP copies of a JPEG's sizes go to <picture>, not to the list of sizes.
  const isAlternate = (image: Image) =>
    image.mimetype !== original.mimetype && ALTERNATE_TYPES.includes(image.mimetype);
  const sorted = images
    .filter((image) => !image.original)
    .sort((a, b) => a.width - b.width || a.height - b.height);
  const alternates = sorted.filter(isAlternate).map((image) => imageView(image, store));
  return {
    ...(alternates.length === 0 ? {} : { alternates }),
    original: imageView(original, store),
    thumbnails: sorted.filter((image) => !isAlternate(image)).map((i) => imageView(i, store)),
  };
}

/** The widths of `sizes` the picture has no thumbnail of yet: made later by a worker. */
export function pendingWidths(picture: PictureView, widths: readonly number[]): number[] {
  return widths.filter((width) => !picture.thumbnails.some((image) => image.width === width));
}

/** The image of a width: the thumbnail, else the original (shown scaled). */
export function pick(picture: PictureView, width: number): ImageView {
  return picture.thumbnails.find((image) => image.width === width) ?? picture.original;
}

export async function loadUserViews(
  models: Models,
  store: Store,
  users?: User[],
): Promise<UserView[]> {
  const list = users ?? (await models.User.findAll({ order: [['id', 'ASC']] }));
  if (list.length === 0) return [];
  const images = await models.UserPicture.findAll({
    where: { userId: list.map((user) => user.id) },
  });
  const byUser = groupBy(images, (image: UserPicture) => image.userId);
  return list.map((user) => ({
    id: user.id,
    name: user.name,
    picture: pictureView(byUser.get(user.id) ?? [], store),
  }));
}

export async function loadAlbumView(album: Album, store: Store): Promise<AlbumView> {
  const images = await album.photos.images();
  const byPosition = groupBy(images, (image: AlbumPhoto) => image.position);
  const photos: PhotoView[] = [];
  for (const [position, set] of [...byPosition].sort(([a], [b]) => a - b)) {
    const picture = pictureView(set, store);
    if (picture !== null) photos.push({ position, ...picture, large: largeUrl(album, position) });
  }
  return { id: album.id, title: album.title, photos };
}

/**
 * The grid's `<picture>` of each photo, by position: WebP and JPEG sources by width, and the
 * placeholder, made by the set's toPictureHTML() (which escapes every attribute).
 */
export async function loadPhotoHtml(
  album: Album,
  view: AlbumView,
  store: Store,
): Promise<Map<number, string>> {
  const html = new Map<number, string>();
  for (const { position } of view.photos) {
    const markup = await album.photos.getImageSet({ position }).toPictureHTML({
      store,
      sizes: GRID_SIZES,
      widths: [GRID_WIDTH, GRID_WIDTH * 2],
      formats: PHOTO_FORMATS,
      alt: `Photo ${position + 1}`,
      loading: 'lazy',
      decoding: 'async',
      placeholder: true,
    });
    html.set(position, markup);
  }
  return html;
}

export async function loadAlbumViews(models: Models, store: Store): Promise<AlbumView[]> {
  const albums = await models.Album.findAll({ order: [['id', 'ASC']] });
  return Promise.all(albums.map((album) => loadAlbumView(album, store)));
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}
