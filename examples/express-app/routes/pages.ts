/**
 * The server-rendered pages and their plain form posts, which answer with a redirect (303)
 * so a reload never posts twice. app.js upgrades the upload forms to the JSON API.
 */
import express, { type Request, type Response, type Router } from 'express';
import { ValidationError } from 'sequelize';
import { parseId, sendPage, type AppContext } from '../app-context.js';
import { HttpError, notFound, publicError } from '../http-errors.js';
import type { Album, User } from '../models.js';
import { loadAlbumView, loadAlbumViews, loadPhotoHtml, loadUserViews } from '../presenters.js';
import { albumPage, albumsPage } from '../views/albums.js';
import { homePage } from '../views/home.js';
import { userPage } from '../views/user.js';
import { PICTURE_SIZES, PICTURE_WIDTH } from '../sizes.js';
import { destroyPhoto, destroyPicture } from './deletes.js';
import { usesDirectUploads } from './direct.js';
import { loadAlbum, loadUser, photosUpload, pictureUpload } from './uploads.js';

export function pageRoutes(context: AppContext): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const store = () => context.stores.active.store;

  router.get('/', async (_req, res) => {
    const users = await loadUserViews(context.models, store());
    sendPage(res, context, { title: 'People', section: 'people' }, homePage({ users }));
  });

  router.post('/users', form, async (req, res) => {
    const name = textField(req, 'name');
    try {
      const user = await context.models.User.create({ name });
      res.redirect(303, `/users/${user.id}`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const users = await loadUserViews(context.models, store());
      const message = 'Give a name of 1 to 60 characters.';
      sendPage(
        res,
        context,
        { title: 'People', section: 'people', status: 422 },
        homePage({ users, error: { message, name } }),
      );
    }
  });

  router.get('/users/:id', loadUser(context), async (_req, res) => {
    await sendUserPage(res, res.locals.user as User);
  });

  router.post(
    '/users/:id/picture',
    ...pictureUpload(context, 'next'),
    (req: Request, res: Response) => res.redirect(303, `/users/${req.params.id as string}`),
  );

  router.post('/users/:id/picture/delete', loadUser(context), async (req, res) => {
    await destroyPicture(context, res.locals.user as User);
    res.redirect(303, `/users/${req.params.id as string}`);
  });

  router.get('/albums', async (_req, res) => {
    const albums = await loadAlbumViews(context.models, store());
    sendPage(res, context, { title: 'Albums', section: 'albums' }, albumsPage(albums));
  });

  router.post('/albums', form, async (req, res) => {
    const title = textField(req, 'title');
    try {
      const album = await context.models.Album.create({ title });
      res.redirect(303, `/albums/${album.id}`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const albums = await loadAlbumViews(context.models, store());
      const message = 'Give a title of 1 to 60 characters.';
      sendPage(
        res,
        context,
        { title: 'Albums', section: 'albums', status: 422 },
        albumsPage(albums, { message, title }),
      );
    }
  });

  router.get('/albums/:id', loadAlbum(context), async (_req, res) => {
    await sendAlbumPage(res, res.locals.album as Album);
  });

  router.post(
    '/albums/:id/photos',
    ...photosUpload(context, 'next'),
    (req: Request, res: Response) => res.redirect(303, `/albums/${req.params.id as string}`),
  );

  router.post('/albums/:id/photos/:position/delete', loadAlbum(context), async (req, res) => {
    const position = parseId(req.params.position);
    if (
      position === undefined ||
      !(await destroyPhoto(context, res.locals.album as Album, position))
    )
      throw notFound('photo');
    res.redirect(303, `/albums/${req.params.id as string}`);
  });

  // A refused upload of the plain form shows the page again with the reason next to the form.
  router.use(async (error: unknown, req: Request, res: Response, next: (err?: unknown) => void) => {
    const { status, body } = publicError(error);
    const user = res.locals.user as User | undefined;
    const album = res.locals.album as Album | undefined;
    if (req.method !== 'POST' || status >= 500 || error instanceof HttpError) return next(error);
    if (user !== undefined) await sendUserPage(res, user, body.error.message, status);
    else if (album !== undefined) await sendAlbumPage(res, album, body.error.message, status);
    else next(error);
  });

  async function sendUserPage(res: Response, user: User, error?: string, status = 200) {
    const [view] = await loadUserViews(context.models, store(), [user]);
    const pictureHtml = await user.picture.toHTML({
      store: store(),
      sizes: PICTURE_SIZES,
      widths: [PICTURE_WIDTH, PICTURE_WIDTH * 2],
      alt: `Picture of ${user.name}`,
      class: 'picture',
      decoding: 'async',
      placeholder: true,
    });
    sendPage(
      res,
      context,
      { title: user.name, section: 'people', status },
      userPage(view!, error, pictureHtml, usesDirectUploads(context)),
    );
  }

  async function sendAlbumPage(res: Response, album: Album, error?: string, status = 200) {
    const view = await loadAlbumView(album, store());
    sendPage(
      res,
      context,
      { title: album.title, section: 'albums', status },
      albumPage(view, error, await loadPhotoHtml(album, view, store())),
    );
  }

  return router;
}

function textField(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.trim() : '';
}
