/**
 * The incoming objects of direct uploads: what a browser posts straight to the bucket, under a
 * prefix of its own (`[prefix/].imageattach-incoming/<id>`), private, typed
 * `application/octet-stream` and `attachment` (an upload never completed must not be a way to
 * host a page), until the server has checked it and copied it into the store's layout.
 */
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { DirectUploadMissingError, StoreUnavailableError } from '../errors.js';
import { isNotFound, isUnavailable, s3Error } from './s3-errors.js';
import { presignedPost, s3Sdk } from './s3-sdk.js';
import type { S3Store } from './s3.js';

/** The folder of incoming objects, under the store's prefix. */
export const INCOMING_FOLDER = '.imageattach-incoming';

/** What a browser needs to post a file: the form's action and its fields, file last. */
export interface PresignedUpload {
  url: string;
  fields: Record<string, string>;
}

/** An incoming object opened for reading. */
export interface IncomingObject {
  body: Readable;
  /** Its version, so that the copy is of the bytes that were checked. */
  etag: string | undefined;
}

/** `[prefix/].imageattach-incoming/`: where the store's incoming objects are. */
export function incomingPrefix(store: S3Store): string {
  return `${store.prefix === '' ? '' : `${store.prefix}/`}${INCOMING_FOLDER}/`;
}

/** The policy's fixed fields: the object is private, opaque and downloaded, never shown. */
export const INCOMING_FIELDS: Readonly<Record<string, string>> = {
  acl: 'private',
  'Content-Type': 'application/octet-stream',
  'Content-Disposition': 'attachment',
};

/**
 * A presigned POST for one incoming object: exactly `key`, 1 to `maxBytes` bytes, the fixed
 * fields, `expiresIn` seconds. S3 refuses a post that breaks any of these.
 */
export async function presignIncoming(
  store: S3Store,
  key: string,
  maxBytes: number,
  expiresIn: number,
): Promise<PresignedUpload> {
  try {
    const { url, fields } = await presignedPost().createPresignedPost(store.client, {
      Bucket: store.bucket,
      Key: key,
      Conditions: [['content-length-range', 1, maxBytes]],
      Fields: { ...INCOMING_FIELDS },
      Expires: expiresIn,
    });
    return { url, fields };
  } catch (error) {
    throw storeFailure(error, key, 'presign a POST for');
  }
}

/**
 * Opens an incoming object for reading.
 * @throws {DirectUploadMissingError} (400) when nothing was uploaded under `key`.
 * @throws {StoreUnavailableError} (503) when S3 cannot be reached.
 */
export async function openIncoming(store: S3Store, key: string): Promise<IncomingObject> {
  try {
    const { Body, ETag } = await store.client.send(
      new s3Sdk.GetObjectCommand({ Bucket: store.bucket, Key: key }),
    );
    return { body: Body as Readable, etag: ETag };
  } catch (error) {
    if (isNotFound(error)) {
      throw new DirectUploadMissingError(
        'Nothing was uploaded for this token; post the file to the presigned URL first.',
        { cause: error },
      );
    }
    throw storeFailure(error, key, 'read');
  }
}

/** Deletes an incoming object; one already gone is fine. */
export async function deleteIncoming(client: S3Client, bucket: string, key: string): Promise<void> {
  try {
    await client.send(new s3Sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw storeFailure(error, key, 'delete');
  }
}

/** `StoreUnavailableError` (503) when S3 is down, else what `s3Error` makes of it. */
export function storeFailure(error: unknown, key: string, action: string): Error {
  if (error instanceof StoreUnavailableError) return error;
  if (isUnavailable(error)) {
    return new StoreUnavailableError('The image store cannot be reached; try again later.', {
      cause: error,
    });
  }
  return s3Error(error, key, action);
}
