/**
 * `directUploads()`: browsers send images straight to S3 with a presigned POST, and every
 * promise of `uploadImage` still holds. The server hands out a POST policy for one private,
 * opaque object under the incoming prefix and a signed upload token; on completion it checks
 * the token, reads the object from S3 through the same checks as `uploadImage`, and copies it
 * server-side into the image set's original in the usual transaction (direct-attach.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AttachTargetNotFoundError,
  ForbiddenError,
  ImageAttachError,
  InvalidBodyError,
  InvalidOptionError,
  QueueFullError,
  UnsupportedMediaTypeError,
  UploadTokenExpiredError,
  UploadTokenInvalidError,
  UploadTokenMismatchError,
} from '../errors.js';
import type { ThumbnailSize } from '../images/thumbnail.js';
import type { ThumbnailScheduler } from '../models/thumbnail-scheduler.js';
import { useUploadToken } from '../models/used-upload-tokens.js';
import {
  deleteIncoming,
  incomingPrefix,
  openIncoming,
  presignIncoming,
} from '../stores/s3-incoming.js';
import { presignedPost } from '../stores/s3-sdk.js';
import { S3Store } from '../stores/s3.js';
import type { Middleware } from '../stores/store.js';
import {
  isExpired,
  newUploadId,
  openUploadToken,
  resolveSecret,
  signUploadToken,
} from '../uploads/direct-token.js';
import { resolveImageOptions, type ImageStorageOptions } from '../uploads/options.js';
import { drainRequest, sendError, type ErrorMode } from '../uploads/respond.js';
import type { AttachableImage } from './attach.js';
import { attachIncoming, type DirectUploadTarget } from './direct-attach.js';
import { isJson, readJsonBody, sendJson } from './json.js';
import { checkLater } from './later-thumbnails.js';

export type { DirectUploadTarget } from './direct-attach.js';

export interface DirectUploadsOptions<
  I extends AttachableImage = AttachableImage,
> extends ImageStorageOptions {
  /** The S3 store the images go to; browsers post to its bucket. */
  store: S3Store;
  /**
   * The key upload tokens are signed with (HMAC-SHA-256): at least 32 bytes, the same on every
   * server, kept out of the code.
   */
  secret: string | Uint8Array;
  /**
   * Whether the request's user may attach an image to the set `to` names; asked when the
   * upload starts and again when it completes. Required: `false` answers 403 `E_FORBIDDEN`.
   */
  authorize: (req: IncomingMessage, res: ServerResponse) => boolean | PromiseLike<boolean>;
  /**
   * The image set the upload is for, as `attachImage`'s `to`; nothing answers 404
   * `E_ATTACH_TARGET_NOT_FOUND`. Asked at the start (the token names the set) and at completion
   * (it must name the same set).
   */
  to: (
    req: IncomingMessage,
    res: ServerResponse,
  ) =>
    | DirectUploadTarget<I>
    | null
    | undefined
    | PromiseLike<DirectUploadTarget<I> | null | undefined>;
  /**
   * Thumbnails made in the completing transaction: `{ width }`, `{ height }` or `{ ratio }`.
   * @default []
   */
  thumbnails?: readonly ThumbnailSize[];
  /**
   * Make `thumbnails` later, off the request: the `imageJobs(...)` of
   * `sequelize-imageattach/jobs`, sent a job in the completing transaction; they are then
   * listed `pending`, as with `attachImage({ later })`.
   * @default none: made in the completion
   */
  later?: ThumbnailScheduler;
  /**
   * Seconds the presigned POST and its token are good for.
   * @default 600 (10 minutes)
   */
  expiresIn?: number;
  /**
   * `'respond'` answers 4xx and 503 itself with `{ error: { code, message, field? } }`;
   * `'next'` passes them to the app's error handler.
   * @default 'respond'
   */
  errors?: ErrorMode;
}

/** What `POST /` answers: the form a browser posts to S3, and the token to complete with. */
export interface DirectUploadTicket {
  /** The form's action (the bucket's URL). */
  url: string;
  /** The form's fields, in order; the file goes last, as `file`. */
  fields: Record<string, string>;
  /** The upload token, for `POST /complete`. */
  token: string;
  /** The bytes the file may have. */
  maxBytes: number;
  /** When the POST and the token expire (ISO 8601). */
  expiresAt: string;
}

/** A completion's body is `{ "token": … }`: a few hundred bytes. */
const MAX_BODY = 8 * 1024;
const DEFAULT_EXPIRES_IN = 600;
const MAX_EXPIRES_IN = 7 * 24 * 3600;

/**
 * A router with two routes, relative to where it is mounted:
 * - `POST /`: answers a {@link DirectUploadTicket} (a presigned POST for one object under
 *   `.imageattach-incoming/`, 1 byte to `maxFileSize`, private, for `expiresIn` seconds);
 * - `POST /complete` with `{ "token": … }` as JSON: checks the token (403), reads the object
 *   through the checks of `uploadImage` (their 4xx), stores it as the set's original with its
 *   thumbnails, puts `res.locals.image` as `attachImage` does and calls `next()`.
 *
 * @example
 * app.use('/uploads/direct',
 *   directUploads({
 *     store, secret: process.env.UPLOAD_SECRET,
 *     authorize: (req) => req.user !== undefined,
 *     to: async (req) => (await User.findByPk(req.user.id))?.picture,
 *     thumbnails: [{ width: 128 }],
 *   }),
 *   (req, res) => res.json({ url: attachedImage(res).url }));
 */
export function directUploads<I extends AttachableImage = AttachableImage>(
  options: DirectUploadsOptions<I>,
): Middleware {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object with store, secret, authorize, to');
  }
  if (!(options.store instanceof S3Store)) {
    throw new InvalidOptionError('store', 'must be an S3Store: browsers post to its bucket');
  }
  const secret = resolveSecret(options.secret);
  if (typeof options.authorize !== 'function') {
    throw new InvalidOptionError(
      'authorize',
      'is required: a function (req, res) => boolean saying whether the user may attach the image',
    );
  }
  if (typeof options.to !== 'function') {
    throw new InvalidOptionError('to', 'must be a function returning the image set to attach to');
  }
  const thumbnails: unknown = options.thumbnails ?? [];
  if (!Array.isArray(thumbnails)) {
    throw new InvalidOptionError(
      'thumbnails',
      'must be an array of { width }, { height } or { ratio }',
    );
  }
  const expiresIn = options.expiresIn ?? DEFAULT_EXPIRES_IN;
  if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_IN) {
    throw new InvalidOptionError('expiresIn', `must be 1 to ${MAX_EXPIRES_IN} seconds`);
  }
  const errors = options.errors ?? 'respond';
  if (errors !== 'respond' && errors !== 'next') {
    throw new InvalidOptionError('errors', "must be 'respond' or 'next'");
  }
  const later = checkLater(options.later);
  presignedPost(); // E_MISSING_DEPENDENCY now rather than at the first upload
  const resolved = resolveImageOptions(options);
  const { store, authorize, to } = options;
  const sizes = thumbnails as ThumbnailSize[];
  const how = { store, resolved, sizes, later };
  const prefix = incomingPrefix(store);

  /** The set the request names, once its user may attach to it. */
  const target = async (req: IncomingMessage, res: ServerResponse) => {
    if ((await authorize(req, res)) !== true) {
      throw new ForbiddenError('You may not attach an image here.');
    }
    const set = await to(req, res);
    if (set === null || set === undefined) {
      throw new AttachTargetNotFoundError(
        'There is nothing to attach the image to; check the URL.',
      );
    }
    return set;
  };

  const start = async (req: IncomingMessage, res: ServerResponse) => {
    const owner = (await target(req, res)).fileOwner();
    const id = newUploadId();
    const key = `${prefix}${id}`;
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + expiresIn) * 1000);
    const { url, fields } = await presignIncoming(store, key, resolved.maxFileSize, expiresIn);
    const token = signUploadToken(
      { id, ...owner, key, maxBytes: resolved.maxFileSize, expiresAt },
      secret,
    );
    const ticket: DirectUploadTicket = {
      url,
      fields,
      token,
      maxBytes: resolved.maxFileSize,
      expiresAt: expiresAt.toISOString(),
    };
    sendJson(res, 200, ticket);
  };

  const complete = async (req: IncomingMessage, res: ServerResponse) => {
    if (!isJson(req)) {
      throw new UnsupportedMediaTypeError('Send the token as application/json: { "token": … }.');
    }
    const body = await readJsonBody(req, { maxBytes: MAX_BODY });
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new InvalidBodyError('The body must be a JSON object { "token": … }.');
    }
    const { token } = body as { token?: unknown };
    if (token === undefined) {
      throw new UploadTokenInvalidError('The request has no upload token; send { "token": … }.');
    }
    const payload = openUploadToken(token, secret);
    if (payload.key !== `${prefix}${payload.id}`) {
      throw new UploadTokenInvalidError('The upload token names an object outside the uploads.');
    }
    if (isExpired(payload)) {
      // Its POST has expired too: the object can never be completed, so it goes now rather
      // than at the lifecycle rule's day.
      await deleteIncoming(store.client, store.bucket, payload.key).catch(() => undefined);
      throw new UploadTokenExpiredError('The upload token has expired; upload the file again.');
    }
    const set = await target(req, res);
    const owner = set.fileOwner();
    if (owner.objectType !== payload.objectType || owner.objectId !== payload.objectId) {
      throw new UploadTokenMismatchError('The upload token was issued for another image.');
    }
    if (resolved.queue.full) throw new QueueFullError(resolved.queue.retryAfter);
    // Opened before the token is spent: with S3 down, the same token can be tried again.
    const incoming = await openIncoming(store, payload.key);
    try {
      await useUploadToken(set.sequelize, payload.id, payload.expiresAt);
    } catch (error) {
      // A replay leaves the object to the completion that spent the token.
      incoming.body.destroy();
      throw error;
    }
    localsOf(res).image = await attachIncoming(how, req, set, payload, incoming);
  };

  return function directUploadsRouter(req, res, next) {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    const route = req.method === 'POST' ? path : undefined;
    if (route !== '/' && route !== '/complete') {
      next();
      return;
    }
    Promise.resolve()
      .then(() => (route === '/' ? start(req, res) : complete(req, res)))
      .then(
        () => {
          if (route === '/complete') next();
        },
        (error: unknown) => {
          drainRequest(req, () => {
            if (errors === 'respond' && isAnswered(error)) sendError(res, error);
            else next(error);
          });
        },
      )
      .catch(next);
  };
}

/** Our 4xx, and 503: the client's to act on. */
function isAnswered(error: unknown): error is ImageAttachError {
  return (
    error instanceof ImageAttachError &&
    ((error.status >= 400 && error.status < 500) || error.status === 503)
  );
}

function localsOf(res: ServerResponse): Record<string, unknown> {
  const withLocals = res as ServerResponse & { locals?: Record<string, unknown> };
  withLocals.locals ??= {};
  return withLocals.locals;
}
