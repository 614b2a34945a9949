/**
 * Rows to what pages and the JSON API show: each image as its URL, size and type, grouped
 * into the picture of a user or the photos of an album.
 */
import type { Image, Store } from '../../src/index.js';
import type { Album, AlbumPhoto, Models, User, UserPicture } from './models.js';

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
}

export interface UserView {
  id: number;
  name: string;
  picture: PictureView | null;
}

export interface PhotoView extends PictureView {
  position: number;
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
  const thumbnails = images
    .filter((image) => !image.original)
    .sort((a, b) => a.width - b.width || a.height - b.height)
    .map((image) => imageView(image, store));
  return { original: imageView(original, store), thumbnails };
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
    if (picture !== null) photos.push({ position, ...picture });
  }
  return { id: album.id, title: album.title, photos };
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
