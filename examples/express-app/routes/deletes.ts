/**
 * Deleting images: the rows go in one transaction, and the library deletes their files from
 * the store once it commits.
 */
import { imageTransaction } from '../../../src/index.js';
import type { AppContext } from '../app-context.js';
import type { Album, User } from '../models.js';

/** Deletes the user's picture and its thumbnails; `false` when there was none. */
export function destroyPicture(context: AppContext, user: User): Promise<boolean> {
  return imageTransaction(context.sequelize, async (transaction) => {
    const images = await user.picture.images({ transaction });
    for (const image of images) await image.destroy({ transaction });
    return images.length > 0;
  });
}

/** Deletes one photo of the album with its thumbnails; `false` when there was none. */
export function destroyPhoto(
  context: AppContext,
  album: Album,
  position: number,
): Promise<boolean> {
  return imageTransaction(context.sequelize, async (transaction) => {
    const images = await album.photos.getImageSet({ position }).images({ transaction });
    for (const image of images) await image.destroy({ transaction });
    return images.length > 0;
  });
}
