/**
 * `uploadImage()`: parses a `multipart/form-data` request with multer and {@link imageStorage},
 * so the next handler finds on `req.file` an image that is what its bytes say, within the
 * limits, staged in a temporary file that is removed when the response closes.
 */
import type { IncomingMessage } from 'node:http';
import multer from 'multer';
import {
  InvalidOptionError,
  QueueFullError,
  UploadMalformedError,
  UploadMissingFileError,
} from '../errors.js';
import { requestFiles } from '../uploads/cleanup.js';
import { deferDecodeIfAttachFollows } from '../uploads/deferred-decode.js';
import {
  positiveInteger,
  resolveImageOptions,
  type ImageStorageOptions,
} from '../uploads/options.js';
import { failRequest, toUploadError, type ErrorMode } from '../uploads/respond.js';
import { imageStorage, type StagedImageFile } from '../uploads/storage.js';
import type { Middleware } from './middleware.js';

export interface UploadImageOptions extends ImageStorageOptions {
  /** The form field that carries the image. */
  field: string;
  /**
   * Files the field may carry. With 1, the file is `req.file`; with more, `req.files` (an
   * array). A request with more files is refused with 413.
   * @default 1
   */
  maxFiles?: number;
  /**
   * Text fields the form may have besides the file(s).
   * @default 20
   */
  maxFields?: number;
  /**
   * Bytes per text field value.
   * @default 64 KiB (65536)
   */
  maxFieldSize?: number;
  /**
   * `'respond'` answers upload errors (4xx, 503) itself with `{ error: { code, message, field } }`;
   * `'next'` passes them to the app's error handler. Other errors always go to `next(err)`.
   * @default 'respond'
   */
  errors?: ErrorMode;
}

/** A request after {@link uploadImage}. */
export interface UploadedRequest extends IncomingMessage {
  file?: StagedImageFile;
  files?: StagedImageFile[];
  body?: Record<string, unknown>;
}

const DEFAULT_MAX_FIELDS = 20;
const DEFAULT_MAX_FIELD_SIZE = 64 * 1024;

/**
 * A middleware that accepts one image (or up to `maxFiles`) in `field`, typed by its bytes and
 * checked against the limits, before the next handler runs. Refused uploads are answered with
 * 400, 413, 415, 422 or 503 and leave nothing behind.
 *
 * @example
 * app.post('/users/:id/picture',
 *   uploadImage({ field: 'picture', maxFileSize: 10 * 1024 * 1024 }),
 *   (req, res) => res.json({ type: req.file.mimetype, width: req.file.width }));
 */
export function uploadImage(options: UploadImageOptions): Middleware {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object with at least `field`');
  }
  const { field } = options;
  if (typeof field !== 'string' || field === '') {
    throw new InvalidOptionError('field', 'must be the name of the form field with the image');
  }
  const errors = options.errors ?? 'respond';
  if (errors !== 'respond' && errors !== 'next') {
    throw new InvalidOptionError('errors', "must be 'respond' or 'next'");
  }
  const resolved = resolveImageOptions(options);
  const maxFiles = positiveInteger('maxFiles', options.maxFiles, 1);
  const maxFields = positiveInteger('maxFields', options.maxFields, DEFAULT_MAX_FIELDS);
  const maxFieldSize = positiveInteger(
    'maxFieldSize',
    options.maxFieldSize,
    DEFAULT_MAX_FIELD_SIZE,
  );
  const upload = multer({
    storage: imageStorage({ ...options, queue: resolved.queue }),
    limits: {
      fileSize: resolved.maxFileSize,
      files: maxFiles,
      fields: maxFields,
      fieldSize: maxFieldSize,
      parts: maxFiles + maxFields,
      headerPairs: 100,
    },
  });
  const parse = (maxFiles === 1
    ? upload.single(field)
    : upload.array(field, maxFiles)) as unknown as Middleware;
  const limits = { field, maxFileSize: resolved.maxFileSize, maxFiles };

  return function uploadImageMiddleware(req, res, next) {
    // Refuse before reading a byte when the decodes could not even queue.
    if (resolved.queue.full) {
      failRequest(req, res, next, new QueueFullError(resolved.queue.retryAfter), errors);
      return;
    }
    if (!isMultipartForm(req)) {
      failRequest(
        req,
        res,
        next,
        new UploadMalformedError(
          `The request is not multipart/form-data; send the image in the field ${JSON.stringify(field)} of a multipart form.`,
          { field },
        ),
        errors,
      );
      return;
    }
    requestFiles(req, res);
    // Another file than the first would reach the next handler unchecked: one file only.
    if (maxFiles === 1) deferDecodeIfAttachFollows(req, uploadImageMiddleware);
    parse(req, res, (error?: unknown) => {
      if (error !== undefined && error !== null) {
        failRequest(req, res, next, toUploadError(error, limits), errors);
        return;
      }
      const uploaded = req as UploadedRequest;
      const count = maxFiles === 1 ? (uploaded.file ? 1 : 0) : (uploaded.files?.length ?? 0);
      if (count === 0) {
        failRequest(
          req,
          res,
          next,
          new UploadMissingFileError(
            `The request has no file in the field ${JSON.stringify(field)}; send the image as ` +
              `multipart/form-data in that field.`,
            { field },
          ),
          errors,
        );
        return;
      }
      next();
    });
  };
}

function isMultipartForm(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && /^multipart\/form-data\s*;/i.test(type);
}
