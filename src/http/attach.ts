/**
 * `attachImage()`: stores the image `uploadImage` staged as the original of an image set, with
 * its thumbnails, in one transaction, and describes the result on `res.locals.image`. The
 * image is decoded first, once, in a slot of the processing queue (see upload-thumbnails.ts),
 * and its placeholder too when the model keeps one (upload-placeholder.ts); the transaction
 * then only writes rows and files, holding no slot.
 */
import type { ServerResponse } from 'node:http';
import type { Sequelize, Transaction } from 'sequelize';
import {
  AttachTargetNotFoundError,
  InvalidOptionError,
  UploadMissingFileError,
} from '../errors.js';
import { defaultProcessingQueue, ProcessingQueue } from '../images/queue.js';
import { imageTransaction } from '../models/image-transaction.js';
import { markAllOrNothing } from '../models/transaction-files.js';
import { resolveStore } from '../context.js';
import { syncAheadOfMove } from '../stores/fs.js';
import type { ThumbnailFormat, ThumbnailSize } from '../images/thumbnail.js';
import { SET_IN_TRANSACTION, type RenderedLookup } from '../models/image-set.js';
import { validateFormats } from '../models/thumbnail-formats.js';
import { assertStore, type Store } from '../stores/store.js';
import { requestFiles } from '../uploads/cleanup.js';
import { takesPendingDecodes } from '../uploads/deferred-decode.js';
import { failRequest, type ErrorMode } from '../uploads/respond.js';
import type { StagedImageFile } from '../uploads/storage.js';
import { uploadPlaceholder, type PlaceholderValues } from '../uploads/upload-placeholder.js';
import { renderUploadThumbnails, type UploadRenders } from '../uploads/upload-thumbnails.js';
import type { Middleware } from './middleware.js';
import type { UploadedRequest } from './upload.js';
import type { ThumbnailScheduler } from '../models/thumbnail-scheduler.js';
import {
  checkLater,
  pendingThumbnails,
  scheduleLater,
  type LaterThumbnailSet,
  type PendingThumbnailFields,
} from './later-thumbnails.js';

/** What attachImage needs of an image: its size, type and URL. */
export interface AttachableImage {
  width: number;
  height: number;
  mimetype: string;
  locate(options?: { store?: Store }): string;
}

/** What the set methods are given. */
export interface AttachWriteOptions {
  store?: Store;
  transaction?: Transaction;
}

/**
 * What thumbnails are made with: the ones rendered ahead, else the staged upload, read instead
 * of the stored copy.
 */
export interface ThumbnailWriteOptions extends AttachWriteOptions {
  source?: string;
  formats?: readonly ThumbnailFormat[];
  rendered?: RenderedLookup;
}

/** What attachImage needs of an image set (`SingleImageSet`, `ImageSubset`). */
export interface AttachableImageSet<
  I extends AttachableImage = AttachableImage,
> extends LaterThumbnailSet {
  readonly sequelize: {
    transaction<T>(autoCallback: (transaction: Transaction) => PromiseLike<T>): Promise<T>;
  };
  fromRawFile(
    input: string,
    options: AttachWriteOptions & {
      width: number;
      height: number;
      mimetype: string;
      original: true;
      /** The staged file may be moved into the store (it is not read again). */
      move?: boolean;
      /** The placeholder, decoded before the transaction (see upload-placeholder.ts). */
      values?: { placeholder: string | null };
    },
  ): Promise<I>;
  generateThumbnail(size: ThumbnailSize, options: ThumbnailWriteOptions): Promise<I>;
  /** Used when present: several thumbnails from one decode. */
  generateThumbnails?(
    sizes: readonly ThumbnailSize[],
    options: ThumbnailWriteOptions,
  ): Promise<I[]>;
}

/** The request `to` sees: after `uploadImage`, with Express's route parameters. */
export interface AttachRequest extends UploadedRequest {
  params: Record<string, string>;
}

export interface AttachImageOptions<I extends AttachableImage = AttachableImage> {
  /**
   * The image set to attach to, e.g. `async (req) => (await User.findByPk(req.params.id))?.picture`.
   * Nothing (`null` or `undefined`) answers 404 `E_ATTACH_TARGET_NOT_FOUND`.
   */
  to: (
    req: AttachRequest,
    res: ServerResponse,
  ) =>
    | AttachableImageSet<I>
    | null
    | undefined
    | PromiseLike<AttachableImageSet<I> | null | undefined>;
  /**
   * Thumbnails made in the same transaction: `{ width }`, `{ height }` or `{ ratio }` each.
   * @default []
   */
  thumbnails?: readonly ThumbnailSize[];
  /**
   * More formats each thumbnail is also stored in, e.g. `['avif', 'webp']` for `<picture>`
   * and content negotiation (see `generateThumbnails`); the image model needs
   * `imageAttributes({ mimetypeInKey: true })`.
   * @default []
   */
  formats?: readonly ThumbnailFormat[];
  /**
   * Make `thumbnails` later, off the request: the `imageJobs(...)` of
   * `sequelize-imageattach/jobs`, which gets one job in the upload's transaction (with
   * `formats`, which the worker makes too). Then `res.locals.image.thumbnails` lists each size
   * in each format with `pending: true`, and the original's `image` and `url`, until a worker
   * has made them.
   * @default none (made in the request)
   */
  later?: ThumbnailScheduler;
  /**
   * The store the files go to.
   * @default the current store (`app.use(store.middleware())`)
   */
  store?: Store;
  /**
   * The queue the decode and the thumbnails' encoding run through (not the storing: a slot is
   * held only while decoding and encoding).
   * @default the process-wide queue `uploadImage` uses by default
   */
  queue?: ProcessingQueue;
  /**
   * `'respond'` answers 4xx and 503 itself with `{ error: { code, message, field } }`;
   * `'next'` passes them to the app's error handler. Other errors always go to `next(err)`.
   * @default 'respond'
   */
  errors?: ErrorMode;
}

/** One stored image, as `res.locals.image` describes it. */
export interface AttachedFile<
  I extends AttachableImage = AttachableImage,
> extends PendingThumbnailFields {
  image: I;
  url: string;
  width: number;
  height: number;
  mimetype: string;
}

/** What `attachImage` puts on `res.locals.image`. */
export interface AttachedImage<
  I extends AttachableImage = AttachableImage,
> extends AttachedFile<I> {
  thumbnails: AttachedFile<I>[];
}

/**
 * What `res.locals.image` says of an original just attached: its URL and size, and those of
 * the thumbnails made with it and of those pending (`later`: the original's URL meanwhile).
 */
export function attachedImageOf<I extends AttachableImage>(
  image: I,
  made: readonly I[],
  pending: ReadonlyArray<{ width: number; height: number; mimetype?: string }>,
  options: { store?: Store },
): AttachedImage<I> {
  const describe = (one: I): AttachedFile<I> => ({
    image: one,
    url: one.locate(options),
    width: one.width,
    height: one.height,
    mimetype: one.mimetype,
  });
  const original = describe(image);
  return {
    ...original,
    thumbnails: [...made.map(describe), ...pendingThumbnails(original, pending)],
  };
}

/**
 * A middleware, mounted after {@link uploadImage}, that stores the staged image as the original
 * of the set `to` returns (replacing the set's old images at commit) and generates
 * `thumbnails`, all in one transaction: on any failure no row is written and no file stays in
 * the store. Then `res.locals.image` is `{ image, url, width, height, mimetype, thumbnails }`.
 *
 * @example
 * app.post('/users/:id/picture',
 *   uploadImage({ field: 'picture' }),
 *   attachImage({
 *     to: async (req) => (await User.findByPk(req.params.id))?.picture,
 *     thumbnails: [{ width: 128 }, { width: 512 }],
 *   }),
 *   (req, res) => res.json({ url: attachedImage(res).url }));
 */
export function attachImage<I extends AttachableImage = AttachableImage>(
  options: AttachImageOptions<I>,
): Middleware {
  if (typeof options !== 'object' || options === null || typeof options.to !== 'function') {
    throw new InvalidOptionError('to', 'must be a function returning the image set to attach to');
  }
  const thumbnails: unknown = options.thumbnails ?? [];
  if (!Array.isArray(thumbnails)) {
    throw new InvalidOptionError(
      'thumbnails',
      'must be an array of { width }, { height } or { ratio }',
    );
  }
  if (options.store !== undefined) assertStore(options.store, 'store');
  const queue = options.queue ?? defaultProcessingQueue();
  if (!(queue instanceof ProcessingQueue)) {
    throw new InvalidOptionError('queue', 'must be a ProcessingQueue');
  }
  const errors = options.errors ?? 'respond';
  if (errors !== 'respond' && errors !== 'next') {
    throw new InvalidOptionError('errors', "must be 'respond' or 'next'");
  }
  validateFormats(options.formats);
  const formatsOption = options.formats === undefined ? {} : { formats: options.formats };
  const later = checkLater(options.later);
  const { to, store } = options;
  const sizes = thumbnails as ThumbnailSize[];
  const storeOption = store === undefined ? {} : { store };

  /** Rows and files in one transaction, with the thumbnails `renders` holds: no decode. */
  const attach = (
    set: AttachableImageSet<I>,
    staged: StagedImageFile,
    renders: UploadRenders,
    values: PlaceholderValues,
  ) =>
    writeTransaction(set.sequelize, async (root) => {
      // Any failure below fails the upload and rolls all of it back: no savepoints.
      const transaction = markAllOrNothing(root);
      const write = { ...storeOption, transaction };
      // Thumbnails come rendered, else from the staged file: no read back from the store.
      const thumbnailWrite = {
        ...write,
        ...formatsOption,
        source: staged.path,
        rendered: renders.get,
      };
      // Nothing reads the staged file after the original is stored when every thumbnail is
      // rendered: a file-system store may take it by renaming it.
      // Other formats beside the sizes are rendered from the staged file here: it must stay.
      const move =
        sizes.length === 0 ||
        later !== undefined ||
        (renders.complete &&
          set.generateThumbnails !== undefined &&
          (options.formats ?? []).length === 0);
      const image = await set.fromRawFile(staged.path, {
        ...write,
        width: staged.width,
        height: staged.height,
        mimetype: staged.mimetype,
        original: true,
        move,
        ...(values === undefined ? {} : { values }),
      });
      let made: I[] = [];
      if (later !== undefined) {
        const boxes =
          sizes.length > 0
            ? await scheduleLater(set, sizes, transaction, later, options.formats)
            : [];
        return { image, made, boxes };
      }
      if (sizes.length > 0 && set.generateThumbnails) {
        // The original just stored is the whole set, its lock held: not read again.
        const known = { ...thumbnailWrite, [SET_IN_TRANSACTION]: [image] };
        made = await set.generateThumbnails(sizes, known);
      } else {
        for (const size of sizes) made.push(await set.generateThumbnail(size, thumbnailWrite));
      }
      return { image, made, boxes: [] };
    });

  return takesPendingDecodes(function attachImageMiddleware(req, res, next) {
    const uploaded = req as AttachRequest;
    const staged = uploaded.file ?? uploaded.files?.[0];
    if (staged === undefined || typeof staged.path !== 'string') {
      failRequest(
        req,
        res,
        next,
        new UploadMissingFileError(
          'There is no staged image on req.file; mount uploadImage() before attachImage().',
        ),
        errors,
      );
      return;
    }
    // The staged file must outlive the response's close until it is stored.
    const release = requestFiles(req, res)?.hold() ?? (() => undefined);
    // The decode (the upload's check, when uploadImage handed it on) comes before `to` sees
    // the request, and before the transaction.
    // Thumbnails made later are not rendered here; the check decode still runs.
    // While the image decodes, the staged file is written to disk for good, if the store
    // will fsync it after taking it: that fsync then costs nothing inside the transaction.
    const synced = syncAheadOfMove(storeIfKnown(store), staged.path);
    renderUploadThumbnails(req, staged, later === undefined ? sizes : [], queue)
      .then(async (renders) => {
        await synced;
        const set = await to(uploaded, res);
        if (set === null || set === undefined) {
          throw new AttachTargetNotFoundError(
            'There is nothing to attach the image to; check the URL.',
          );
        }
        const values = await uploadPlaceholder(set, staged.path, staged.mimetype, queue);
        return attach(set, staged, renders, values);
      })
      .then(
        ({ image, made, boxes }) => {
          release();
          localsOf(res).image = attachedImageOf(image, made, boxes, storeOption);
          next();
        },
        (error: unknown) => {
          release();
          failRequest(req, res, next, error, errors);
        },
      )
      // Only a handler after this one throwing synchronously lands here; the routers of
      // Express and Connect catch that themselves, so this is the last resort.
      .catch(next);
  });
}

/** The store the image will go to, or `undefined` when no store is current (an error later). */
function storeIfKnown(store: Store | undefined): Store | undefined {
  try {
    return resolveStore(store);
  } catch {
    return undefined;
  }
}

/** An {@link imageTransaction} when the set's `sequelize` is a Sequelize instance. */
function writeTransaction<T>(
  sequelize: AttachableImageSet['sequelize'],
  fn: (transaction: Transaction) => PromiseLike<T>,
): Promise<T> {
  return typeof (sequelize as Partial<Sequelize>).getDialect === 'function'
    ? imageTransaction(sequelize as Sequelize, fn)
    : sequelize.transaction(fn);
}

function localsOf(res: ServerResponse): Record<string, unknown> {
  const withLocals = res as ServerResponse & { locals?: Record<string, unknown> };
  withLocals.locals ??= {};
  return withLocals.locals;
}
