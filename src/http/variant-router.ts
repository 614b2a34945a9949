/**
 * `variantRouter()`: sizes nobody thought of at upload time, made once when first asked for,
 * behind signed URLs (`set.variantUrl()` signs them). Each is an ordinary thumbnail row, made
 * through the set's transaction rules, so gc, migration and the sets see it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ModelStatic, Sequelize } from 'sequelize';
import { resolveStore } from '../context.js';
import {
  ImageAttachError,
  InvalidOptionError,
  NoOriginalImageError,
  ThumbnailNotFoundError,
  VariantNotAllowedError,
  VariantSignatureError,
} from '../errors.js';
import { mimetypeOfFormat, WRITABLE_FORMATS } from '../images/formats.js';
import { defaultProcessingQueue, ProcessingQueue } from '../images/queue.js';
import type { ThumbnailFormat } from '../images/thumbnail.js';
import { lockNameForWrite } from '../models/file-locks.js';
import type { BaseImageSet } from '../models/image-set.js';
import { markAllOrNothing } from '../models/transaction-files.js';
import { imageTransaction } from '../models/image-transaction.js';
import { Image } from '../models/image.js';
import { findImageSet } from '../models/set-registry.js';
import { assertStore, type Middleware, type Store } from '../stores/store.js';
import { sendError } from '../uploads/respond.js';
import {
  parseVariantPath,
  secretBytes,
  verifySignature,
  type VariantTarget,
} from '../variants/variant-path.js';

/** A size `allow` lets through: its one side and, optionally, the formats it may be made in. */
export interface AllowedVariant {
  width?: number;
  height?: number;
  /** @default every format thumbnails can be written in */
  formats?: readonly ThumbnailFormat[];
}

/** What an `allow` function is asked about. */
export interface VariantRequest {
  /** The image model's `objectType`. */
  type: string;
  width?: number;
  height?: number;
  format: ThumbnailFormat;
}

export interface VariantRouterOptions {
  /** The HMAC-SHA256 key: at least 32 bytes, the same `set.variantUrl()` signs with. */
  secret: string | Buffer;
  /**
   * The sizes that may be made: a list (`[{ width: 320 }, { width: 640, formats: ['webp'] }]`)
   * or a function. Anything else is 404 `E_VARIANT_NOT_ALLOWED` before any database read or
   * decode, even with a valid signature.
   */
  allow: readonly AllowedVariant[] | ((request: VariantRequest) => boolean);
  /** The image models whose sets are served, found by their `objectType` in the URL. */
  models: readonly ModelStatic<Image>[];
  /**
   * `'redirect'` answers 302 to the stored file's URL; `'serve'` streams it from the store.
   * @default 'redirect'
   */
  respond?: 'redirect' | 'serve';
  /**
   * Seconds a served variant may be cached (`Cache-Control: public, max-age`); a redirect is
   * `no-cache`, since a replaced original keeps the variant URL and changes its target.
   * @default 3600
   */
  maxAge?: number;
  /** @default the current store (`app.use(store.middleware())`) */
  store?: Store;
  /**
   * The queue variants are made through.
   * @default the process-wide queue uploads use by default
   */
  queue?: ProcessingQueue;
}

const DEFAULT_MAX_AGE = 3600;

/**
 * A middleware answering `GET /<signature>/<type>/<id>/<width>x<height>.<format>` below its
 * mount path: a forged or cut signature is 403 `E_VARIANT_SIGNATURE`, a size outside `allow`
 * 404 `E_VARIANT_NOT_ALLOWED`; the first request for an allowed size makes the thumbnail (once,
 * however many ask at the same time, in this process or others), every request answers with
 * the stored file.
 *
 * @example
 * const secret = process.env.VARIANT_SECRET!;
 * app.use('/variants', variantRouter({ secret, allow: [{ width: 320 }, { width: 640 }], models: [UserPicture] }));
 * const url = user.picture.variantUrl({ width: 320, format: 'webp', secret, mountPath: '/variants' });
 */
export function variantRouter(options: VariantRouterOptions): Middleware {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object with secret, allow and models');
  }
  const secret = secretBytes(options.secret);
  const allowed = allowPredicate(options.allow);
  const models = modelsByType(options.models);
  const respond = options.respond ?? 'redirect';
  if (respond !== 'redirect' && respond !== 'serve') {
    throw new InvalidOptionError('respond', "must be 'redirect' or 'serve'");
  }
  const maxAge = options.maxAge ?? DEFAULT_MAX_AGE;
  if (typeof maxAge !== 'number' || !Number.isSafeInteger(maxAge) || maxAge < 0) {
    throw new InvalidOptionError('maxAge', 'must be a whole number of seconds, 0 or more');
  }
  if (options.store !== undefined) assertStore(options.store, 'store');
  const queue = options.queue ?? defaultProcessingQueue();
  if (!(queue instanceof ProcessingQueue)) {
    throw new InvalidOptionError('queue', 'must be a ProcessingQueue');
  }
  // Variants being made in this process, by subject: concurrent requests share one.
  const making = new Map<string, Promise<Image>>();

  const variantOf = async (subject: string, target: VariantTarget, store: Store) => {
    const model = models.get(target.type);
    if (model === undefined) throw new VariantNotAllowedError(`No images of type ${target.type}.`);
    const names = (model as unknown as typeof Image).identityAttributes.call(model);
    if (names.length !== target.id.length) {
      throw new VariantNotAllowedError('The URL does not name an image set.');
    }
    const identity = Object.fromEntries(names.map((name, at) => [name, target.id[at]]));
    const set = await findImageSet(model, identity);
    if (set === null) throw new NoOriginalImageError();
    const query = { ...target.size, format: target.format };
    const existing = await set.findThumbnail(query, { store }).catch((error: unknown) => {
      if (error instanceof ThumbnailNotFoundError) return undefined;
      throw error;
    });
    if (existing !== undefined) return existing;
    let made = making.get(subject);
    if (made === undefined) {
      made = queue.run(() => makeVariant(set, subject, target, store));
      making.set(subject, made);
      void made.then(
        () => making.delete(subject),
        () => making.delete(subject),
      );
    }
    return await made;
  };

  return function variantRouterMiddleware(req, res, next) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    const path = (req.url ?? '').split('?')[0]!;
    const parsed = parseVariantPath(path);
    if (parsed === undefined) {
      sendError(res, new VariantNotAllowedError('Not a variant URL.'));
      return;
    }
    if (!verifySignature(secret, parsed.subject, parsed.signature)) {
      sendError(res, new VariantSignatureError('The URL signature does not match; sign it again.'));
      return;
    }
    const { target } = parsed;
    if (
      target === undefined ||
      !allowed({ type: target.type, ...target.size, format: target.format })
    ) {
      sendError(res, new VariantNotAllowedError('That size is not made on demand here.'));
      return;
    }
    let store: Store;
    try {
      store = resolveStore(options.store);
    } catch (error) {
      next(error);
      return;
    }
    variantOf(parsed.subject, target, store)
      .then((image) => {
        if (image.mimetype !== mimetypeOfFormat(target.format)) {
          // A model keyed by size only holds one format of a size.
          throw new VariantNotAllowedError(
            `This size exists as ${image.mimetype}; ask for that format, or key the model by ` +
              'mimetype (imageAttributes) to keep several.',
          );
        }
        return respond === 'redirect'
          ? redirect(res, image.locate({ store }))
          : serve(req, res, image, store, maxAge);
      })
      .catch((error: unknown) => {
        if (error instanceof ImageAttachError && (error.status < 500 || error.status === 503)) {
          if (error.status === 503 && 'retryAfter' in error) {
            res.setHeader('Retry-After', String(error.retryAfter));
          }
          sendError(res, error);
          return;
        }
        next(error);
      });
  };
}

/**
 * Makes the thumbnail in a transaction of its own, holding the variant's lock first: a second
 * process asking for the same size waits for the first one's commit, then finds its row.
 */
async function makeVariant<I extends Image>(
  set: BaseImageSet<I>,
  subject: string,
  target: VariantTarget,
  store: Store,
): Promise<I> {
  const sequelize: Sequelize = set.sequelize;
  return await imageTransaction(sequelize, async (root) => {
    // The thumbnail is all this transaction writes: no savepoint inside it.
    const transaction = markAllOrNothing(root);
    await lockNameForWrite(sequelize, transaction, `variant\0${subject}`);
    return await set.generateThumbnail(target.size, {
      store,
      transaction,
      format: target.format,
    });
  });
}

function redirect(res: ServerResponse, url: string): void {
  res.statusCode = 302;
  res.setHeader('Location', url);
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Content-Length', '0');
  res.end();
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  image: Image,
  store: Store,
  maxAge: number,
): Promise<void> {
  const file = await image.openFile({ store });
  res.statusCode = 200;
  res.setHeader('Content-Type', image.mimetype);
  res.setHeader('Cache-Control', `public, max-age=${maxAge}`);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.method === 'HEAD') {
    file.destroy();
    res.end();
    return;
  }
  await pipeline(file, res);
}

function allowPredicate(allow: unknown): (request: VariantRequest) => boolean {
  if (typeof allow === 'function') {
    return (request) => (allow as (request: VariantRequest) => unknown)(request) === true;
  }
  if (!Array.isArray(allow)) {
    throw new InvalidOptionError('allow', 'must be a list of { width } / { height } or a function');
  }
  const entries = allow.map((entry: unknown, at) => checkAllowed(entry, at));
  return (request) =>
    entries.some(
      (entry) =>
        entry.width === request.width &&
        entry.height === request.height &&
        (entry.formats ?? WRITABLE_FORMATS).includes(request.format),
    );
}

function checkAllowed(entry: unknown, at: number): AllowedVariant {
  const { width, height, formats } = (entry ?? {}) as AllowedVariant;
  const sides = [width, height].filter((side) => side !== undefined);
  if (sides.length !== 1 || !sides.every((side) => Number.isSafeInteger(side) && side > 0)) {
    throw new InvalidOptionError(`allow[${at}]`, 'must give one positive width or height');
  }
  if (
    formats !== undefined &&
    (!Array.isArray(formats) ||
      !(formats as unknown[]).every(
        (format) => typeof format === 'string' && WRITABLE_FORMATS.includes(format),
      ))
  ) {
    throw new InvalidOptionError(
      `allow[${at}].formats`,
      `must list only ${WRITABLE_FORMATS.join(', ')}`,
    );
  }
  return { width, height, formats };
}

function modelsByType(models: unknown): Map<string, ModelStatic<Image>> {
  if (
    !Array.isArray(models) ||
    models.length === 0 ||
    !(models as unknown[]).every(
      (model) => typeof model === 'function' && model.prototype instanceof Image,
    )
  ) {
    throw new InvalidOptionError('models', 'must be a non-empty list of image models');
  }
  return new Map(
    (models as ModelStatic<Image>[]).map((model) => [
      (model as unknown as typeof Image).objectType ?? model.tableName.replace(/_/g, '-'),
      model,
    ]),
  );
}
