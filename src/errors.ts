/**
 * Every error this library throws on purpose is an {@link ImageAttachError}: a stable
 * string `code`, an HTTP `status` where one applies, and the underlying failure as `cause`.
 * Argument mistakes are plain `TypeError`s and `RangeError`s, as in Node's own APIs.
 */

import type { FailedImageKey, MigrationSummary } from './migration/types.js';
import { describeKey } from './stores/keys.js';

/**
 * Every `code` an {@link ImageAttachError} can carry. All are `E_*`, except
 * {@link ImageNotFoundError}'s `ENOENT`, which follows Node's convention for a missing file.
 */
export type ImageAttachErrorCode =
  | 'E_IMAGEATTACH'
  | 'ENOENT'
  | 'E_STORE'
  | 'E_NO_STORE_CONTEXT'
  | 'E_INVALID_OPTION'
  | 'E_NO_HOST_URL'
  | 'E_NOT_AN_IMAGE'
  | 'E_INVALID_STORE_URL'
  | 'E_MIGRATION_IMAGE'
  | 'E_VERIFY_MISMATCH'
  | 'E_MIGRATION_FAILED'
  | 'E_MIGRATION_RUNNING'
  | 'E_GC_RUNNING'
  | 'E_NO_ORIGINAL'
  | 'E_NO_THUMBNAIL'
  | 'E_NO_OBJECT_ID'
  | 'E_ORPHAN_FILE'
  | 'E_JOURNAL_TABLE_MISSING'
  | 'E_UPLOAD'
  | 'E_UPLOAD_MALFORMED'
  | 'E_UPLOAD_MISSING_FILE'
  | 'E_UPLOAD_UNEXPECTED_FILE'
  | 'E_UPLOAD_FILE_TOO_LARGE'
  | 'E_UPLOAD_TOO_MANY_FILES'
  | 'E_UPLOAD_TOO_MANY_FIELDS'
  | 'E_UPLOAD_FIELD_TOO_LARGE'
  | 'E_IMAGE_TYPE_NOT_ALLOWED'
  | 'E_IMAGE_TRUNCATED'
  | 'E_IMAGE_UNDECODABLE'
  | 'E_IMAGE_TOO_MANY_PIXELS'
  | 'E_IMAGE_TOO_MANY_FRAMES'
  | 'E_IMAGE_TOO_MUCH_WORK'
  | 'E_IMAGE_DECODE_TIMEOUT'
  | 'E_IMAGE_METADATA_TOO_LARGE'
  | 'E_SVG_UNSAFE'
  | 'E_PDF_UNREADABLE'
  | 'E_PDF_TOO_MANY_PAGES'
  | 'E_PDF_PAGE_TOO_LARGE'
  | 'E_PDF_RENDER_TIMEOUT'
  | 'E_VARIANT_SIGNATURE'
  | 'E_VARIANT_NOT_ALLOWED'
  | 'E_QUEUE_FULL'
  | 'E_ATTACH_TARGET_NOT_FOUND'
  | 'E_DATABASE_BUSY'
  | 'E_DEFERRED_TRANSACTION'
  | 'E_MISSING_DEPENDENCY'
  | 'E_FORBIDDEN'
  | 'E_UNSUPPORTED_MEDIA_TYPE'
  | 'E_INVALID_BODY'
  | 'E_NO_MIGRATION'
  | 'E_INTERNAL'
  | 'E_NO_JOBS'
  | 'E_JOB_TARGET'
  | 'E_UPLOAD_TOKEN_INVALID'
  | 'E_UPLOAD_TOKEN_EXPIRED'
  | 'E_UPLOAD_TOKEN_USED'
  | 'E_UPLOAD_TOKEN_MISMATCH'
  | 'E_DIRECT_UPLOAD_MISSING'
  | 'E_STORE_UNAVAILABLE';

export interface ImageAttachErrorOptions {
  cause?: unknown;
}

/** Base class of the library's errors. Match on `code`, never on `message`. */
export class ImageAttachError extends Error {
  readonly code: ImageAttachErrorCode = 'E_IMAGEATTACH';
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
  /** The form field the bytes were uploaded in, when they came from an upload. */
  readonly field: string | undefined;

  constructor(message: string, options?: UploadErrorOptions) {
    super(message, options);
    this.field = options?.field;
  }
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

/** One image could not be migrated; `cause` says why (e.g. `ImageNotFoundError`). */
export class MigrationImageError extends ImageAttachError {
  override readonly code = 'E_MIGRATION_IMAGE';

  constructor(
    /** The image, as the plan read it from the database. */
    readonly image: FailedImageKey,
    options?: ImageAttachErrorOptions,
  ) {
    super(
      `Could not migrate ${describeKey(image)}: ` +
        `${options?.cause instanceof Error ? options.cause.message : String(options?.cause)}`,
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

  constructor(
    readonly failures: readonly MigrationImageError[],
    /** The counts of the run that failed. */
    readonly summary?: MigrationSummary,
  ) {
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

/**
 * The staged-file journal table (`imageattach_staged_file`) does not exist: the database was
 * set up before it, and not by `sequelize.sync()`. Create it once with
 * `await createImageAttachTables(sequelize)`.
 */
export class JournalTableMissingError extends ImageAttachError {
  override readonly code = 'E_JOURNAL_TABLE_MISSING';

  constructor(
    /** The missing table's name. */
    readonly table: string,
    options?: ImageAttachErrorOptions,
  ) {
    super(
      `The table ${table} (one of the library's own) is missing. Create it once with ` +
        '`await createImageAttachTables(sequelize)` at start-up (sequelize.sync() creates it too).',
      options,
    );
  }
}

export interface UploadErrorOptions extends ImageAttachErrorOptions {
  /** The form field the failure concerns. */
  field?: string | undefined;
}

/**
 * Base of the errors that end an upload; `uploadImage` answers them with `status` and
 * `{ error: { code, message, field } }`.
 */
export class UploadError extends ImageAttachError {
  override readonly code: ImageAttachErrorCode = 'E_UPLOAD';
  override readonly status: number = 400;
  /** The form field the failure concerns, when there is one. */
  readonly field: string | undefined;

  constructor(message: string, options?: UploadErrorOptions) {
    super(message, options);
    this.field = options?.field;
  }
}

/** The request is not a well-formed `multipart/form-data` body (bad boundary, cut-off part). */
export class UploadMalformedError extends UploadError {
  override readonly code = 'E_UPLOAD_MALFORMED';
  override readonly status = 400;
}

/** The request has no file in the expected field. */
export class UploadMissingFileError extends UploadError {
  override readonly code = 'E_UPLOAD_MISSING_FILE';
  override readonly status = 400;
}

/** The request has a file in a field that takes none. */
export class UploadUnexpectedFileError extends UploadError {
  override readonly code = 'E_UPLOAD_UNEXPECTED_FILE';
  override readonly status = 400;
}

/** A file is larger than `maxFileSize` bytes. */
export class UploadFileTooLargeError extends UploadError {
  override readonly code = 'E_UPLOAD_FILE_TOO_LARGE';
  override readonly status = 413;

  constructor(
    /** The limit in bytes. */
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(`The file is larger than ${limit} bytes; send a smaller file.`, options);
  }
}

/** The request has more files than `maxFiles`. */
export class UploadTooManyFilesError extends UploadError {
  override readonly code = 'E_UPLOAD_TOO_MANY_FILES';
  override readonly status = 413;

  constructor(
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(`The request has more than ${limit} file(s); send at most ${limit}.`, options);
  }
}

/** The request has more non-file fields or parts than allowed. */
export class UploadTooManyFieldsError extends UploadError {
  override readonly code = 'E_UPLOAD_TOO_MANY_FIELDS';
  override readonly status = 413;
}

/** A non-file field's name or value is longer than allowed. */
export class UploadFieldTooLargeError extends UploadError {
  override readonly code = 'E_UPLOAD_FIELD_TOO_LARGE';
  override readonly status = 413;
}

/** The bytes are an image of a format the upload does not accept; `mimetype` is what they are. */
export class ImageTypeNotAllowedError extends UploadError {
  override readonly code = 'E_IMAGE_TYPE_NOT_ALLOWED';
  override readonly status = 415;

  constructor(
    readonly mimetype: string,
    readonly allowed: readonly string[],
    options?: UploadErrorOptions,
  ) {
    super(
      `Images of type ${mimetype} are not accepted; send one of ${allowed.join(', ')}.`,
      options,
    );
  }
}

/** The image ends before its data does (an interrupted transfer or a cut file). */
export class ImageTruncatedError extends UploadError {
  override readonly code = 'E_IMAGE_TRUNCATED';
  override readonly status = 422;
}

/** The bytes start as an image of an accepted type, but cannot be decoded. */
export class ImageUndecodableError extends UploadError {
  override readonly code = 'E_IMAGE_UNDECODABLE';
  override readonly status = 422;
}

/** The image has more pixels (width × height, per frame) than `maxPixels`. */
export class ImageTooManyPixelsError extends UploadError {
  override readonly code = 'E_IMAGE_TOO_MANY_PIXELS';
  override readonly status = 422;

  constructor(
    readonly pixels: number,
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(`The image has ${pixels} pixels, more than ${limit}; send a smaller image.`, options);
  }
}

/** The animation has more frames than `maxFrames`. */
export class ImageTooManyFramesError extends UploadError {
  override readonly code = 'E_IMAGE_TOO_MANY_FRAMES';
  override readonly status = 422;

  constructor(
    readonly frames: number,
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(`The animation has ${frames} frames, more than ${limit}; send a shorter one.`, options);
  }
}

/** Decoding every frame would take more pixels (canvas × frames) than `maxTotalPixels`. */
export class ImageTooMuchWorkError extends UploadError {
  override readonly code = 'E_IMAGE_TOO_MUCH_WORK';
  override readonly status = 422;

  constructor(
    /** Canvas pixels × frames. */
    readonly pixels: number,
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(
      `Decoding the image takes ${pixels} pixels (canvas × frames), more than ${limit}; ` +
        'send fewer or smaller frames.',
      options,
    );
  }
}

/** Decoding the image took longer than `decodeTimeout`, and was stopped. */
export class ImageDecodeTimeoutError extends UploadError {
  override readonly code = 'E_IMAGE_DECODE_TIMEOUT';
  override readonly status = 422;

  constructor(
    /** The limit in milliseconds. */
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(`Decoding the image took longer than ${limit} ms; send a simpler image.`, options);
  }
}

/** An embedded ICC profile, EXIF or XMP block is larger than its limit. */
export class ImageMetadataTooLargeError extends UploadError {
  override readonly code = 'E_IMAGE_METADATA_TOO_LARGE';
  override readonly status = 422;

  constructor(
    /** Which block: `icc`, `exif` or `xmp`. */
    readonly kind: 'icc' | 'exif' | 'xmp',
    readonly bytes: number,
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(
      `The image's ${kind.toUpperCase()} block has ${bytes} bytes, more than ${limit}; ` +
        'strip or shrink its metadata.',
      options,
    );
  }
}

/** An SVG holds something outside the allow-list of static drawing (see `findSvgProblem`). */
export class UnsafeSvgError extends UploadError {
  override readonly code = 'E_SVG_UNSAFE';
  override readonly status = 422;

  constructor(
    /** What was found first (an `SvgProblem`): `script`, `event-handler`, `element`, … */
    readonly problem: string,
    options?: UploadErrorOptions,
  ) {
    super(
      `The SVG is refused (${problem}): send a static drawing without scripts, event ` +
        'handlers, links, animation, external references, entities or embedded documents, ' +
        'or a raster image.',
      options,
    );
  }
}

/**
 * A PDF whose structure does not hold (no header or `startxref`, a cross-reference table that
 * does not point at its objects), that is encrypted, or that pdf.js cannot read.
 */
export class PdfUnreadableError extends UploadError {
  override readonly code = 'E_PDF_UNREADABLE';
  override readonly status = 422;

  constructor(
    /** What is wrong with it. */
    readonly problem: string,
    options?: UploadErrorOptions,
  ) {
    super(`The PDF cannot be read (${problem}); send an intact, unencrypted PDF.`, options);
  }
}

/** A PDF with more pages than `maxPdfPages`. */
export class PdfTooManyPagesError extends UploadError {
  override readonly code = 'E_PDF_TOO_MANY_PAGES';
  override readonly status = 422;

  constructor(
    readonly pages: number,
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(`The PDF has ${pages} pages, more than ${limit}; send a shorter document.`, options);
  }
}

/**
 * A PDF whose first page is larger than `maxPdfPageSize` points on a side, or than `maxPixels`
 * at 72 dpi.
 */
export class PdfPageTooLargeError extends UploadError {
  override readonly code = 'E_PDF_PAGE_TOO_LARGE';
  override readonly status = 422;

  constructor(
    /** The page's width and height in points. */
    readonly width: number,
    readonly height: number,
    readonly limits: { maxPageSize: number; maxPixels: number },
    options?: UploadErrorOptions,
  ) {
    super(
      `The PDF's first page is ${Math.round(width)}x${Math.round(height)} points, larger than ` +
        `${limits.maxPageSize} points a side or ${limits.maxPixels} square points; send a ` +
        'smaller page.',
      options,
    );
  }
}

/** Reading and rendering a PDF's first page took longer than `pdfRenderTimeout`, and was stopped. */
export class PdfRenderTimeoutError extends UploadError {
  override readonly code = 'E_PDF_RENDER_TIMEOUT';
  override readonly status = 422;

  constructor(
    /** The limit in milliseconds. */
    readonly limit: number,
    options?: UploadErrorOptions,
  ) {
    super(`Rendering the PDF took longer than ${limit} ms; send a simpler document.`, options);
  }
}

/** The image processing queue is full; try again after `retryAfter` seconds. */
export class QueueFullError extends ImageAttachError {
  override readonly code = 'E_QUEUE_FULL';
  override readonly status = 503;

  constructor(
    /** Seconds to wait before retrying, sent as `Retry-After`. */
    readonly retryAfter: number,
  ) {
    super(`Too many images are being processed; try again in ${retryAfter} seconds.`);
  }
}

/** `attachImage`'s `to` found nothing to attach the image to. */
export class AttachTargetNotFoundError extends ImageAttachError {
  override readonly code = 'E_ATTACH_TARGET_NOT_FOUND';
  override readonly status = 404;
}

/**
 * SQLite stayed locked by a writer in another process for longer than the busy timeout
 * (`configureSqlite(sequelize, { busyTimeout })`); try again later.
 */
export class DatabaseBusyError extends ImageAttachError {
  override readonly code = 'E_DATABASE_BUSY';
  override readonly status = 503;
}

/**
 * The library was asked to write in a DEFERRED SQLite transaction that had already run
 * statements while another transaction was writing; start it with `imageTransaction()`.
 */
export class DeferredTransactionError extends ImageAttachError {
  override readonly code = 'E_DEFERRED_TRANSACTION';
}

/** An optional peer dependency a subpath needs is not installed; `command` installs it. */
export class MissingDependencyError extends ImageAttachError {
  override readonly code = 'E_MISSING_DEPENDENCY';

  constructor(
    /** The packages to install. */
    readonly packages: readonly string[],
    /** What it is needed for, such as `sequelize-imageattach/s3`. */
    readonly neededBy: string,
    options?: ImageAttachErrorOptions,
  ) {
    super(
      `${neededBy} needs the optional peer dependencies ${packages.join(', ')}, and they are ` +
        `not all installed. Install them: npm install ${packages.join(' ')}`,
      options,
    );
  }

  /** The command that installs the missing packages. */
  get command(): string {
    return `npm install ${this.packages.join(' ')}`;
  }
}

/** The migration router's `authorize` refused the request. */
export class ForbiddenError extends ImageAttachError {
  override readonly code = 'E_FORBIDDEN';
  override readonly status = 403;
}

/** A request body was not sent as the media type the route accepts (`application/json`). */
export class UnsupportedMediaTypeError extends ImageAttachError {
  override readonly code = 'E_UNSUPPORTED_MEDIA_TYPE';
  override readonly status = 415;
}

/** A request body is not what the route accepts; the message names the wrong member. */
export class InvalidBodyError extends ImageAttachError {
  override readonly code = 'E_INVALID_BODY';
  override readonly status = 400;
}

/** The migration router was asked to cancel, and no migration is running. */
export class NoMigrationError extends ImageAttachError {
  override readonly code = 'E_NO_MIGRATION';
  override readonly status = 409;
}

/**
 * A direct upload's token is missing, malformed, forged (its signature does not match), or
 * names an object outside the incoming prefix.
 */
export class UploadTokenInvalidError extends ImageAttachError {
  override readonly code = 'E_UPLOAD_TOKEN_INVALID';
  override readonly status = 403;
}

/** A direct upload's token is past its expiry; ask for a new one and upload again. */
export class UploadTokenExpiredError extends ImageAttachError {
  override readonly code = 'E_UPLOAD_TOKEN_EXPIRED';
  override readonly status = 403;
}

/** A direct upload's token was completed once already: each token attaches one upload. */
export class UploadTokenUsedError extends ImageAttachError {
  override readonly code = 'E_UPLOAD_TOKEN_USED';
  override readonly status = 403;
}

/** A direct upload's token was issued for another image set than the one this request names. */
export class UploadTokenMismatchError extends ImageAttachError {
  override readonly code = 'E_UPLOAD_TOKEN_MISMATCH';
  override readonly status = 403;
}

/** A direct upload was completed, but no object was uploaded under its token's key. */
export class DirectUploadMissingError extends UploadError {
  override readonly code = 'E_DIRECT_UPLOAD_MISSING';
  override readonly status = 400;
}

/** The store's backend cannot be reached (S3 down, refused or timed out); try again later. */
export class StoreUnavailableError extends ImageAttachError {
  override readonly code = 'E_STORE_UNAVAILABLE';
  override readonly status = 503;
}

/**
 * A failure that is not the library's own (a store's SDK, the file system), shown to a client
 * without its details, which stay in the server log.
 */
export class InternalError extends ImageAttachError {
  override readonly code = 'E_INTERNAL';
}

/** `variantRouter`: the URL's signature is not the one its secret gives for the rest of the path. */
export class VariantSignatureError extends ImageAttachError {
  override readonly code = 'E_VARIANT_SIGNATURE';
  override readonly status = 403;
}

/** `variantRouter`: a signed URL asks for a size outside `allow`, or for no image there is. */
export class VariantNotAllowedError extends ImageAttachError {
  override readonly code = 'E_VARIANT_NOT_ALLOWED';
  override readonly status = 404;
}

/** `generateThumbnailsLater` was called, and no `imageJobs(...)` serves the set's Sequelize. */
export class JobsNotConfiguredError extends ImageAttachError {
  override readonly code = 'E_NO_JOBS';
}

/** A job names an image set this process cannot find: a model or attachment it does not define. */
export class JobTargetError extends ImageAttachError {
  override readonly code = 'E_JOB_TARGET';
}

/** `distributeGc` was called while a distributed gc of the same store runs (its heartbeat fresh). */
export class GcRunningError extends ImageAttachError {
  override readonly code = 'E_GC_RUNNING';
  override readonly status = 409;
}
