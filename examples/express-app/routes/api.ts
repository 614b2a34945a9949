/**
 * The JSON API beside the pages, for scripts and for app.js. Errors answer
 * `{ error: { code, message, field? } }`, as the upload middleware's own do.
 */
import express, { type Request, type Response, type Router } from 'express';
import { ValidationError } from 'sequelize';
import type { AttachedImage } from '../../../src/index.js';
import { parseId, type AppContext } from '../app-context.js';
import { HttpError, notFound } from '../http-errors.js';
import type { Album, AlbumPhoto, User } from '../models.js';
import { loadAlbumView, loadAlbumViews, loadUserViews, type PictureView } from '../presenters.js';
import { destroyPhoto, destroyPicture } from './deletes.js';
import { directPictureUploads } from './direct.js';
import { loadAlbum, loadUser, photosUpload, pictureUpload } from './uploads.js';

export function apiRoutes(context: AppContext): Router {
  const router = express.Router();
  const json = express.json({ limit: '16kb' });
  const store = () => context.stores.active.store;

  router.get('/users', async (_req, res) => {
    res.json({ users: await loadUserViews(context.models, store()) });
  });

  router.post('/users', json, async (req, res) => {
    const name = jsonText(req, 'name');
    const user = await create(() => context.models.User.create({ name }), 'name');
    const [view] = await loadUserViews(context.models, store(), [user]);
    res.status(201).location(`/api/users/${user.id}`).json({ user: view });
  });

  router.get('/users/:id', loadUser(context), async (_req, res) => {
    const [view] = await loadUserViews(context.models, store(), [res.locals.user as User]);
    res.json({ user: view });
  });

  router.post('/users/:id/picture', ...pictureUpload(context, 'respond'), (_req, res) => {
    const attached = res.locals.image as AttachedImage;
    const picture: PictureView = {
      original: fileView(attached),
      thumbnails: attached.thumbnails.map(fileView),
    };
    res.status(201).json({ picture });
  });

  // Only on S3 stores: the browser posts the file to the bucket, then completes here.
  router.use(
    '/users/:id/picture/direct',
    loadUser(context),
    directPictureUploads(context),
    (_req: Request, res: Response) => {
      const attached = res.locals.image as AttachedImage;
      const picture: PictureView = {
        original: fileView(attached),
        thumbnails: attached.thumbnails.map(fileView),
      };
      res.status(201).json({ picture });
    },
  );

  router.delete('/users/:id/picture', loadUser(context), async (_req, res) => {
    if (!(await destroyPicture(context, res.locals.user as User))) {
      throw new HttpError(404, 'E_NO_PICTURE', 'The user has no picture.');
    }
    res.status(204).end();
  });

  router.get('/albums', async (_req, res) => {
    res.json({ albums: await loadAlbumViews(context.models, store()) });
  });

  router.post('/albums', json, async (req, res) => {
    const title = jsonText(req, 'title');
    const album = await create(() => context.models.Album.create({ title }), 'title');
    res
      .status(201)
      .location(`/api/albums/${album.id}`)
      .json({ album: await loadAlbumView(album, store()) });
  });

  router.get('/albums/:id', loadAlbum(context), async (_req, res) => {
    res.json({ album: await loadAlbumView(res.locals.album as Album, store()) });
  });

  router.post('/albums/:id/photos', ...photosUpload(context, 'respond'), async (_req, res) => {
    const album = await loadAlbumView(res.locals.album as Album, store());
    const added = new Set((res.locals.photos as AlbumPhoto[]).map((photo) => photo.position));
    res.status(201).json({ photos: album.photos.filter((photo) => added.has(photo.position)) });
  });

  router.delete('/albums/:id/photos/:position', loadAlbum(context), async (req, res) => {
    const position = parseId(req.params.position);
    if (
      position === undefined ||
      !(await destroyPhoto(context, res.locals.album as Album, position))
    )
      throw notFound('photo');
    res.status(204).end();
  });

  router.use((_req: Request, _res: Response) => {
    throw new HttpError(404, 'E_NOT_FOUND', 'There is no such API route.');
  });

  return router;
}

function fileView({
  url,
  width,
  height,
  mimetype,
  pending,
}: AttachedImage | AttachedImage['thumbnails'][number]) {
  // A thumbnail still to be made shows the original's URL at its future size.
  return { url, width, height, mimetype, ...(pending ? { pending } : {}) };
}

function jsonText(req: Request, name: string): string {
  if (!req.is('application/json')) {
    throw new HttpError(415, 'E_UNSUPPORTED_MEDIA_TYPE', 'Send application/json.');
  }
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** Runs a create, turning a validation failure into 422 naming the field. */
async function create<T>(run: () => Promise<T>, field: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new HttpError(422, 'E_INVALID_FIELD', `Give a ${field} of 1 to 60 characters.`, field);
    }
    throw error;
  }
}
