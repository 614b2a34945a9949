/**
 * Every error this library throws on purpose is an {@link ImageAttachError}: a stable
 * string `code`, an HTTP `status` where one applies, and the underlying failure as `cause`.
 * Argument mistakes are plain `TypeError`s and `RangeError`s, as in Node's own APIs.
 */

export interface ImageAttachErrorOptions {
  cause?: unknown;
}

/** Base class of the library's errors. Match on `code`, never on `message`. */
export class ImageAttachError extends Error {
  readonly code: string = 'E_IMAGEATTACH';
  /** The HTTP status this failure maps to when it ends a request. */
  readonly status: number = 500;

  constructor(message: string, options?: ImageAttachErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The store has no file under the requested key. */
export class ImageNotFoundError extends ImageAttachError {
  override readonly code = 'ENOENT';
  override readonly status = 404;

  constructor(
    /** The store's key for the missing file (a path or an object key). */
    readonly key: string,
    options?: ImageAttachErrorOptions,
  ) {
    super(`No image file is stored at ${JSON.stringify(key)}.`, options);
  }
}

/** A store's backend failed (I/O error, network error, permission denied); see `cause`. */
export class StoreError extends ImageAttachError {
  override readonly code = 'E_STORE';

  constructor(
    message: string,
    /** The store's key involved, where there is one. */
    readonly key?: string,
    options?: ImageAttachErrorOptions,
  ) {
    super(message, options);
  }
}

/** No store is current: code ran outside `storeContext()` and outside `store.middleware()`. */
export class ContextError extends ImageAttachError {
  override readonly code = 'E_NO_STORE_CONTEXT';

  constructor(message?: string) {
    super(
      message ??
        'No store is current. Run this code inside storeContext(store, fn), mount ' +
          'app.use(store.middleware()) before the route, or pass { store } explicitly.',
    );
  }
}

/** An option given to a constructor or factory is invalid; `option` names it. */
export class InvalidOptionError extends ImageAttachError {
  override readonly code = 'E_INVALID_OPTION';

  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`Invalid option ${option}: ${message}`);
  }
}

/** A store cannot build an absolute URL (e.g. HttpExposedFileSystemStore outside a request). */
export class UrlUnavailableError extends ImageAttachError {
  override readonly code = 'E_NO_HOST_URL';
}

/** The bytes are not an image this library can read (sharp cannot decode their header). */
export class NotAnImageError extends ImageAttachError {
  override readonly code = 'E_NOT_AN_IMAGE';
  override readonly status = 415;
}
