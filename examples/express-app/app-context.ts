/**
 * What every route needs: the database, the models, the stores, and how to answer with a page.
 */
import type { Response } from 'express';
import type { Sequelize } from 'sequelize';
import type { ImageJobs } from '../../src/jobs.js';
import type { Models } from './models.js';
import type { StoreRegistry } from './store-registry.js';
import type { SafeHtml } from './views/html.js';
import { layout, type Section } from './views/layout.js';

export interface AppContext {
  sequelize: Sequelize;
  models: Models;
  stores: StoreRegistry;
  /** Admin is disabled without it. */
  adminPassword: string | undefined;
  /** On PostgreSQL: thumbnails are made after the upload, by the worker of `server.ts`. */
  jobs?: ImageJobs | undefined;
}

export function sendPage(
  res: Response,
  context: AppContext,
  page: { title: string; section: Section; status?: number },
  body: SafeHtml,
): void {
  const document = layout(
    { title: page.title, section: page.section, storeLabel: context.stores.active.label },
    body,
  );
  res
    .status(page.status ?? 200)
    .type('html')
    .set('Cache-Control', 'no-store')
    .send(document.value);
}

/** A route's numeric id, or `undefined` for anything else (which then answers 404). */
export function parseId(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}
