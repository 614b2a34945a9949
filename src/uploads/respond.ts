/**
 * How upload failures reach the client: multer's and busboy's errors mapped to ours, and ours
 * answered as `{ error: { code, message, field? } }` once the request body has been drained.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ImageAttachError,
  QueueFullError,
  UploadFieldTooLargeError,
  UploadFileTooLargeError,
  UploadMalformedError,
  UploadTooManyFieldsError,
  UploadTooManyFilesError,
  UploadUnexpectedFileError,
} from '../errors.js';
import type { UploadError } from '../errors.js';

/** What to do with an upload error: answer it, or pass it to the app's error handler. */
export type ErrorMode = 'respond' | 'next';

/** Statuses this library answers itself; anything else goes to `next(err)`. */
const ANSWERED = new Set([400, 404, 413, 415, 422, 503]);

/** The parser's own failures: a body that is not the multipart it claims, or a client gone. */
const PARSER_MESSAGE =
  /^(?:Unexpected end of (?:form|file)|Malformed|Multipart: Boundary not found|Unsupported content type|Request (?:aborted|closed|error))/;

interface MulterLikeError {
  name: string;
  code: string;
  field?: string;
}

/** Maps multer's and busboy's errors to ours; other errors are returned as they are. */
export function toUploadError(
  error: unknown,
  limits: { field: string; maxFileSize: number; maxFiles: number },
): unknown {
  if (error instanceof ImageAttachError) return error;
  if (isMulterError(error)) {
    const field = error.field;
    switch (error.code) {
      case 'LIMIT_FILE_SIZE':
        return new UploadFileTooLargeError(limits.maxFileSize, { field, cause: error });
      case 'LIMIT_FILE_COUNT':
        return new UploadTooManyFilesError(limits.maxFiles, {
          field: field ?? limits.field,
          cause: error,
        });
      case 'LIMIT_UNEXPECTED_FILE':
        // A second file in our own field is one file too many; a file elsewhere is a wrong part.
        return field === limits.field
          ? new UploadTooManyFilesError(limits.maxFiles, { field, cause: error })
          : new UploadUnexpectedFileError(
              `The field ${JSON.stringify(field)} takes no file; send the file in ` +
                `${JSON.stringify(limits.field)}.`,
              { field, cause: error },
            );
      case 'LIMIT_PART_COUNT':
      case 'LIMIT_FIELD_COUNT':
        return new UploadTooManyFieldsError('The form has too many fields; send fewer.', {
          cause: error,
        });
      case 'LIMIT_FIELD_KEY':
      case 'LIMIT_FIELD_VALUE':
        return new UploadFieldTooLargeError('A form field is too long; send a shorter one.', {
          field,
          cause: error,
        });
      default:
        return new UploadMalformedError('The multipart form is malformed.', {
          field,
          cause: error,
        });
    }
  }
  if (error instanceof Error && PARSER_MESSAGE.test(error.message)) {
    return new UploadMalformedError(
      'The request body is not a complete multipart/form-data form.',
      { cause: error },
    );
  }
  return error;
}

/** Whether this library answers `error` itself (a 4xx or 503 of ours). */
export function isAnswered(error: unknown): error is ImageAttachError {
  return error instanceof ImageAttachError && ANSWERED.has(error.status);
}

/**
 * Answers `error` when it is one of ours (else passes it to `next`), after reading the rest of
 * the request body, so the client is not cut off while still sending and sees the answer.
 */
export function failRequest(
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
  error: unknown,
  mode: ErrorMode,
): void {
  drainRequest(req, () => {
    if (mode === 'next' || !isAnswered(error)) next(error);
    else sendError(res, error);
  });
}

/** The JSON body of an error answer. */
export function errorBody(error: ImageAttachError): {
  error: { code: string; message: string; field?: string };
} {
  const field = (error as UploadError).field;
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(typeof field === 'string' ? { field } : {}),
    },
  };
}

export function sendError(res: ServerResponse, error: ImageAttachError): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(errorBody(error));
  res.statusCode = error.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  if (error instanceof QueueFullError) res.setHeader('Retry-After', String(error.retryAfter));
  res.end(body);
}

/** Calls `done` once the request body has been read to its end, or the client has gone. */
export function drainRequest(req: IncomingMessage, done: () => void): void {
  if (req.readableEnded || req.destroyed) {
    done();
    return;
  }
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    req.off('end', finish);
    req.off('close', finish);
    // The 'error' listener stays: an error after the end must not go unhandled.
    done();
  };
  req.once('end', finish);
  req.once('close', finish);
  req.once('error', finish);
  req.resume();
}

function isMulterError(error: unknown): error is MulterLikeError {
  return (
    error instanceof Error &&
    error.name === 'MulterError' &&
    typeof (error as Partial<MulterLikeError>).code === 'string'
  );
}
