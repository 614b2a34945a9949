/**
 * Direct uploads, when the active store is S3: the browser posts the picture straight to the
 * bucket (`sequelize-imageattach/browser`), and `directUploads` checks and attaches it. The
 * browser module is served from the library's source, transpiled once.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import ts from 'typescript';
import type { Middleware } from '../../../src/index.js';
import { directUploads, S3Store } from '../../../src/s3.js';
import type { AppContext } from '../app-context.js';
import type { User } from '../models.js';
import { USER_THUMBNAILS } from '../sizes.js';

/** Whether pictures go straight to the active store's bucket. */
export function usesDirectUploads(context: AppContext): boolean {
  return context.stores.active.store instanceof S3Store;
}

/**
 * The origin browsers post direct uploads to: the bucket's endpoint (the store's URLs without
 * a `publicBaseUrl`), or `undefined` when the active store is not S3.
 */
export function directUploadOrigin(context: AppContext): string | undefined {
  const { store } = context.stores.active;
  if (!(store instanceof S3Store)) return undefined;
  return new URL(store.urlOfKey('x')).origin;
}

/**
 * `directUploads` for the active store (made once per store); other stores fall through. Mount
 * it after `loadUser`: the picture is `res.locals.user`'s.
 */
export function directPictureUploads(context: AppContext, secret?: string): RequestHandler {
  const key = secret ?? randomBytes(32).toString('hex');
  const routers = new WeakMap<S3Store, Middleware>();
  return (req: Request, res: Response, next: NextFunction) => {
    const { store } = context.stores.active;
    if (!(store instanceof S3Store)) {
      next();
      return;
    }
    let router = routers.get(store);
    if (router === undefined) {
      router = directUploads({
        store,
        secret: key,
        // The example has no accounts: whoever may see a user may change their picture.
        authorize: () => true,
        to: (_req, response) => ((response as Response).locals.user as User).picture,
        thumbnails: USER_THUMBNAILS,
      });
      routers.set(store, router);
    }
    router(req, res, next);
  };
}

const BROWSER_SOURCE = new URL('../../../src/browser.ts', import.meta.url);
let browserModule: Promise<string> | undefined;

/** `GET /assets/imageattach-browser.js`: `sequelize-imageattach/browser` as the browser runs it. */
export function serveBrowserModule(_req: Request, res: Response, next: NextFunction): void {
  browserModule ??= readFile(BROWSER_SOURCE, 'utf8').then(
    (source) =>
      ts.transpileModule(source, {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
      }).outputText,
  );
  browserModule.then(
    (code) => {
      res.type('text/javascript').set('Cache-Control', 'no-cache').send(code);
    },
    (error: unknown) => next(error),
  );
}
