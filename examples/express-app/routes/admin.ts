/**
 * /admin: what each store holds, adding a store by URL, the migration router (JSON and
 * Server-Sent Events; on PostgreSQL, run by the workers), and switching the app to a store that has every file. Without
 * `ADMIN_PASSWORD` the page says how to turn admin on and everything else is refused.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { InvalidStoreUrlError, migrationRouter, type Middleware } from '../../../src/index.js';
import { ADMIN_REALM, hasAdminPassword } from '../admin-auth.js';
import { sendPage, type AppContext } from '../app-context.js';
import { HttpError } from '../http-errors.js';
import type { NamedStore } from '../store-registry.js';
import { missingFiles, storeStats } from '../store-stats.js';
import { adminDisabledPage, adminPage, type StoreRow } from '../views/admin.js';

export function adminRoutes(context: AppContext): Router {
  const router = express.Router();
  const { adminPassword: password } = context;
  if (password === undefined) {
    router.get('/', (_req, res) => {
      sendPage(res, context, { title: 'Admin', section: 'admin' }, adminDisabledPage());
    });
    router.use(() => {
      throw new HttpError(403, 'E_ADMIN_DISABLED', 'Admin is disabled; set ADMIN_PASSWORD.');
    });
    return router;
  }

  router.use((req: Request, res: Response, next: NextFunction) => {
    if (hasAdminPassword(req, password)) return next();
    res.set('WWW-Authenticate', `Basic realm="${ADMIN_REALM}", charset="UTF-8"`);
    throw new HttpError(401, 'E_UNAUTHORIZED', 'Sign in with the admin password.');
  });

  const json = express.json({ limit: '16kb' });
  // The migration router needs two stores; it is made again whenever a store is added.
  let migrations: Middleware | undefined;

  router.get('/', async (_req, res) => {
    sendPage(res, context, { title: 'Admin', section: 'admin' }, adminPage(await storeRows()));
  });

  router.get('/stores', async (_req, res) => {
    res.json({ stores: await storeRows() });
  });

  router.post('/stores', json, async (req, res) => {
    const url = jsonString(req, 'url');
    const known = context.stores.list().length;
    const added = await context.stores.add(url).catch((error: unknown) => {
      if (!(error instanceof InvalidStoreUrlError)) throw error;
      throw new HttpError(400, error.code, error.message, 'url');
    });
    if (context.stores.list().length !== known) {
      migrations = migrationRouter({
        sequelize: context.sequelize,
        stores: context.stores.record(),
        authorize: (request) => hasAdminPassword(request, password),
        // On PostgreSQL the workers copy (here the one in this process; more on other machines).
        ...(context.jobs === undefined ? {} : { jobs: context.jobs }),
      });
    }
    res.status(context.stores.list().length !== known ? 201 : 200).json({
      store: await storeRow(added),
    });
  });

  router.post('/switch', json, async (req, res) => {
    const name = jsonString(req, 'store');
    const entry = context.stores.get(name);
    if (entry === undefined)
      throw new HttpError(404, 'E_STORE_NOT_FOUND', 'There is no such store.');
    const missing = await missingFiles(context.sequelize, entry.store);
    if (missing > 0) {
      throw new HttpError(
        409,
        'E_STORE_INCOMPLETE',
        `The store lacks ${missing} image file${missing === 1 ? '' : 's'}; migrate to it first.`,
      );
    }
    context.stores.activate(name);
    res.json({ store: await storeRow(entry) });
  });

  router.use('/migrations', (req: Request, res: Response, next: NextFunction) => {
    if (migrations === undefined) {
      throw new HttpError(404, 'E_NO_MIGRATION', 'Add a store to migrate to first.');
    }
    migrations(req, res, next);
  });

  async function storeRows(): Promise<StoreRow[]> {
    return Promise.all(context.stores.list().map(storeRow));
  }

  async function storeRow(entry: NamedStore): Promise<StoreRow> {
    const stats = await storeStats(context.sequelize, entry.store);
    const active = entry.name === context.stores.active.name;
    return { name: entry.name, label: entry.label, active, ...stats };
  }

  return router;
}

function jsonString(req: Request, name: string): string {
  if (!req.is('application/json')) {
    throw new HttpError(415, 'E_UNSUPPORTED_MEDIA_TYPE', 'Send application/json.');
  }
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new HttpError(400, 'E_INVALID_FIELD', `Give ${name} as a string.`, name);
  }
  return value.trim();
}
