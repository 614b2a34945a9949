/**
 * The upload chains the pages and the API share: a user's picture through `uploadImage` and
 * `attachImage`, and several album photos at once.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  attachImage,
  defaultProcessingQueue,
  imageTransaction,
  uploadImage,
  type ErrorMode,
  type StagedImageFile,
} from '../../../src/index.js';
import { parseId, type AppContext } from '../app-context.js';
import { notFound } from '../http-errors.js';
import type { Album, AlbumPhoto, User } from '../models.js';
import { PHOTO_FORMATS, PHOTO_THUMBNAILS, USER_THUMBNAILS } from '../sizes.js';

export const MAX_PHOTOS_PER_UPLOAD = 12;
export const PHOTO_UPLOAD_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'pdf'] as const;

/** Finds `:id`'s user into `res.locals.user`, or fails with 404 before the body is read. */
export function loadUser(context: AppContext): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const id = parseId(req.params.id);
    const user = id === undefined ? null : await context.models.User.findByPk(id);
    if (user === null) throw notFound('user');
    res.locals.user = user;
    next();
  };
}

export function loadAlbum(context: AppContext): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const id = parseId(req.params.id);
    const album = id === undefined ? null : await context.models.Album.findByPk(id);
    if (album === null) throw notFound('album');
    res.locals.album = album;
    next();
  };
}

/**
 * Stores the picture and the thumbnails the pages show, in one transaction; then
 * `res.locals.image` describes them. Errors are answered as JSON (`respond`) or passed on.
 */
export function pictureUpload(context: AppContext, errors: ErrorMode): RequestHandler[] {
  return [
    loadUser(context),
    uploadImage({ field: 'picture', errors }),
    attachImage({
      to: (_req, res) => ((res as Response).locals.user as User).picture,
      thumbnails: USER_THUMBNAILS,
      // On PostgreSQL, a worker makes them after the commit; the pages show them as pending.
      ...(context.jobs === undefined ? {} : { later: context.jobs }),
      errors,
    }),
  ];
}

/**
 * Stores up to {@link MAX_PHOTOS_PER_UPLOAD} photos as new subsets of the album, each with its
 * grid thumbnails, all in one transaction; then `res.locals.photos` lists the originals.
 * (`attachImage` stores one file, so the album does this itself.)
 */
export function photosUpload(context: AppContext, errors: ErrorMode): RequestHandler[] {
  return [
    loadAlbum(context),
    // PDFs too: stored as they are, shown by a PNG of their first page.
    uploadImage({
      field: 'photos',
      maxFiles: MAX_PHOTOS_PER_UPLOAD,
      formats: PHOTO_UPLOAD_FORMATS,
      errors,
    }),
    async (req: Request, res: Response, next: NextFunction) => {
      const files = (req as Request & { files?: StagedImageFile[] }).files ?? [];
      res.locals.photos = await storePhotos(context, res.locals.album as Album, files);
      next();
    },
  ];
}

async function storePhotos(
  context: AppContext,
  album: Album,
  files: readonly StagedImageFile[],
): Promise<AlbumPhoto[]> {
  return defaultProcessingQueue().run(() =>
    // imageTransaction: on SQLite the upload waits for its turn before BEGIN, not halfway.
    imageTransaction(context.sequelize, async (transaction) => {
      // The increment locks the album's row: concurrent uploads get distinct positions.
      await album.increment('nextPosition', { by: files.length, transaction });
      await album.reload({ transaction });
      const first = album.nextPosition - files.length;
      const originals: AlbumPhoto[] = [];
      for (const [index, file] of files.entries()) {
        const set = album.photos.getImageSet({ position: first + index });
        originals.push(
          await set.fromRawFile(file.path, {
            width: file.width,
            height: file.height,
            mimetype: file.mimetype,
            original: true,
            transaction,
          }),
        );
        if (context.jobs === undefined) {
          await set.generateThumbnails(PHOTO_THUMBNAILS, { transaction, formats: PHOTO_FORMATS });
        } else {
          await set.generateThumbnailsLater(PHOTO_THUMBNAILS, { transaction, jobs: context.jobs });
        }
      }
      return originals;
    }),
  );
}
