/** The one place S3 failures become the library's errors (in the manner of send's `onStatError`). */
import { ImageNotFoundError, StoreError } from '../errors.js';

interface SdkError {
  name?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * Whether the object is missing: `NoSuchKey` (GET), `NotFound` (HEAD, which has no body to name
 * the error) or a bare 404. A missing bucket is a set-up mistake, not a missing image.
 */
export function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as SdkError;
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}

/** `ImageNotFoundError` for a missing object, else `StoreError`; the SDK's error is the cause. */
export function s3Error(error: unknown, key: string, action: string): Error {
  if (isNotFound(error)) return new ImageNotFoundError(key, { cause: error });
  const name = (error as SdkError | null)?.name;
  const detail = typeof name === 'string' ? ` (${name})` : '';
  return new StoreError(`Could not ${action} the S3 object ${key}${detail}.`, key, {
    cause: error,
  });
}

/**
 * Whether S3 could not be reached or could not answer: no HTTP answer at all (refused, reset,
 * timed out) or a 5xx but 501 (`ServiceUnavailable`, `SlowDown`, `InternalError`). A request may be
 * tried again later; nothing was decided about it.
 */
export function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const status = (error as SdkError).$metadata?.httpStatusCode;
  // 501 is an answer, not an outage: the server lacks the feature (s3rver's lifecycle rules).
  if (typeof status === 'number') return status >= 500 && status !== 501;
  const { code, name } = error as { code?: unknown; name?: unknown };
  return (
    typeof code === 'string' ||
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    name === 'RequestTimeout'
  );
}
