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

/** A store URL (`file:///…`, `s3://…`) is malformed; `part` names what is wrong. */
export class InvalidStoreUrlError extends ImageAttachError {
  override readonly code = 'E_INVALID_STORE_URL';

  constructor(
    /** The wrong part: `scheme`, `host`, `path`, `bucket`, `credentials` or a parameter name. */
    readonly part: string,
    message: string,
    options?: ImageAttachErrorOptions,
  ) {
    super(`Invalid store URL (${part}): ${message}`, options);
  }
}

/** The key of an image a migration failed on, without the model instance. */
export interface FailedImageKey {
  objectType: string;
  objectId: bigint;
  width: number;
  height: number;
  mimetype: string;
  original: boolean;
}

/** One image could not be migrated; `cause` says why (e.g. `ImageNotFoundError`). */
export class MigrationImageError extends ImageAttachError {
  override readonly code = 'E_MIGRATION_IMAGE';

  constructor(
    /** The image, as the plan read it from the database. */
    readonly image: FailedImageKey,
    options?: ImageAttachErrorOptions,
  ) {
    super(
      `Could not migrate ${image.objectType} ${image.objectId} ${image.width}x${image.height} ` +
        `${image.mimetype}: ${options?.cause instanceof Error ? options.cause.message : String(options?.cause)}`,
      options,
    );
  }
}

/** A copy did not match its source after `verify`; the bad copy was removed. */
export class VerificationError extends ImageAttachError {
  override readonly code = 'E_VERIFY_MISMATCH';

  constructor(
    /** What differed: `size` or `sha256`. */
    readonly check: 'size' | 'sha256',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`The copy's ${check} is ${actual}, expected ${expected}.`);
  }
}

/** A migration ended with failed images; `failures` has one error per image, with its cause. */
export class MigrationError extends ImageAttachError {
  override readonly code = 'E_MIGRATION_FAILED';

  constructor(readonly failures: readonly MigrationImageError[]) {
    super(
      `${failures.length} image${failures.length === 1 ? '' : 's'} could not be migrated; ` +
        'see error.failures (each has the image and the cause). Fix them and run again with ' +
        'skipExisting to copy only what is missing.',
    );
  }
}

/** A migration is already running in this process (the admin router runs one at a time). */
export class MigrationRunningError extends ImageAttachError {
  override readonly code = 'E_MIGRATION_RUNNING';
  override readonly status = 409;
}

/** An image set has no original image yet (nothing attached, or it was removed). */
export class NoOriginalImageError extends ImageAttachError {
  override readonly code = 'E_NO_ORIGINAL';
  override readonly status = 404;

  constructor(message = 'There is no original image yet; attach one with fromFile() first.') {
    super(message);
  }
}

/** `findThumbnail()` found no image of the requested size in the set. */
export class ThumbnailNotFoundError extends ImageAttachError {
  override readonly code = 'E_NO_THUMBNAIL';
  override readonly status = 404;

  constructor(
    readonly width: number | undefined,
    readonly height: number | undefined,
  ) {
    super(
      `No thumbnail image of such size: ${width ?? '*'}x${height ?? '*'}. ` +
        'Make it with generateThumbnail() first.',
    );
  }
}

/** An image model cannot derive an integer object id from its primary key; override it. */
export class ObjectIdError extends ImageAttachError {
  override readonly code = 'E_NO_OBJECT_ID';
}

/**
 * A file could not be removed (or restored) after its transaction ended, so the store holds an
 * orphan. Never thrown: reported with `process.emitWarning`, because the transaction is over.
 */
export class OrphanFileWarning extends ImageAttachError {
  override readonly code = 'E_ORPHAN_FILE';

  constructor(
    message: string,
    /** The key of the file left behind, as `objectType/objectId/WxH mimetype`. */
    readonly key: string,
    options?: ImageAttachErrorOptions,
  ) {
    super(message, options);
  }
}
