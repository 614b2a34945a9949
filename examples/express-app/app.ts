/**
 * `createApp(options)`: the example app as an Express application, from a database whose
 * models are defined and synced and a store. `server.ts` builds those from the environment;
 * tests build their own.
 */
import { fileURLToPath } from 'node:url';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Sequelize } from 'sequelize';
import type { Store } from '../../src/index.js';
import type { ImageJobs } from '../../src/jobs.js';
import { sendPage, type AppContext } from './app-context.js';
import { afterBody, HttpError, publicError } from './http-errors.js';
import type { Models } from './models.js';
import { adminRoutes } from './routes/admin.js';
import { apiRoutes } from './routes/api.js';
import { directUploadOrigin, serveBrowserModule } from './routes/direct.js';
import { pageRoutes } from './routes/pages.js';
import { StoreRegistry } from './store-registry.js';
import { variantRoutes, VARIANTS_PATH } from './variants.js';
import { messagePage } from './views/message.js';

export interface CreateAppOptions {
  sequelize: Sequelize;
  /** The models of `defineModels(sequelize)`, synced. */
  models: Models;
  /** Where uploads go and images are served from, until the admin switches it. */
  store: Store;
  /** The URL `store` was made from, shown (without credentials) on the pages. */
  storeUrl: string;
  /** Enables /admin behind HTTP Basic auth; without it, admin is disabled. */
  adminPassword?: string;
  /** Makes the thumbnails of uploads later, off the request (PostgreSQL). */
  jobs?: ImageJobs;
}

const PUBLIC_DIR = fileURLToPath(new URL('./public', import.meta.url));

export function createApp(options: CreateAppOptions): Express {
  const context: AppContext = {
    sequelize: options.sequelize,
    models: options.models,
    stores: new StoreRegistry(options.store, options.storeUrl),
    adminPassword: options.adminPassword,
    jobs: options.jobs,
  };
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders(context));
  app.get('/assets/imageattach-browser.js', serveBrowserModule);
  app.use('/assets', express.static(PUBLIC_DIR, { maxAge: '1h', fallthrough: false }));
  app.use(context.stores.middleware());
  app.use(VARIANTS_PATH, variantRoutes(context.models));
  app.use('/api', apiRoutes(context));
  app.use('/admin', adminRoutes(context));
  app.use(pageRoutes(context));
  app.use(() => {
    throw new HttpError(404, 'E_NOT_FOUND', 'There is no page at this address.');
  });
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const { status, body } = publicError(error);
    if (status >= 500) console.error(error);
    afterBody(req, () => {
      if (res.headersSent) return;
      if (wantsJson(req)) res.status(status).set('Cache-Control', 'no-store').json(body);
      else
        sendPage(
          res,
          context,
          { title: 'Error', section: 'none', status },
          messagePage(status, body.error.message),
        );
    });
  });
  return app;
}

/** The API and admin endpoints (not the admin page) answer errors as JSON. */
function wantsJson(req: Request): boolean {
  const path = req.originalUrl.split('?')[0] ?? '';
  if (path.startsWith('/api/') || path === '/api') return true;
  if (path.startsWith('/admin/')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

function securityHeaders(context: AppContext) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    // Direct uploads post to the bucket: the one origin besides ours a script may reach.
    const bucket = directUploadOrigin(context);
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
      // Images may come from another store's origin (S3, a CDN); everything else is our own.
      'Content-Security-Policy': `default-src 'self'; img-src * data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'${bucket === undefined ? '' : ` ${bucket}`}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    });
    next();
  };
}
