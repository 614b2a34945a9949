/**
 * The completion of a direct upload, once its token holds and its object is open: the object
 * read through the checks of `uploadImage`, its thumbnails rendered (or sent as a job), then
 * in one transaction the original copied inside S3 into its key, with the thumbnails. Once the
 * object has been read it is deleted whatever the outcome, unless S3 failed: then the token is
 * released and the object kept, so that the same completion can be tried again.
 */
import type { IncomingMessage } from 'node:http';
import {
  ImageAttachError,
  ImageNotFoundError,
  StoreError,
  StoreUnavailableError,
  UploadMalformedError,
} from '../errors.js';
import type { ThumbnailSize } from '../images/thumbnail.js';
import { SET_IN_TRANSACTION } from '../models/image-set.js';
import { imageTransaction } from '../models/image-transaction.js';
import type { ThumbnailScheduler } from '../models/thumbnail-scheduler.js';
import { markAllOrNothing } from '../models/transaction-files.js';
import { releaseUploadToken } from '../models/used-upload-tokens.js';
import { StoredObjectCopy } from '../stores/copy-source.js';
import { isUnavailable } from '../stores/s3-errors.js';
import { deleteIncoming, storeFailure, type IncomingObject } from '../stores/s3-incoming.js';
import type { S3Store } from '../stores/s3.js';
import { checkImageStream, type CheckedUpload } from '../uploads/check-stream.js';
import { removeFile } from '../uploads/cleanup.js';
import { deferDecode } from '../uploads/deferred-decode.js';
import type { UploadTokenPayload } from '../uploads/direct-token.js';
import type { ResolvedImageOptions } from '../uploads/options.js';
import { uploadPlaceholder } from '../uploads/upload-placeholder.js';
import { renderUploadThumbnails } from '../uploads/upload-thumbnails.js';
import {
  attachedImageOf,
  type AttachableImage,
  type AttachedImage,
  type ThumbnailWriteOptions,
} from './attach.js';
import { scheduleLater, type LaterThumbnailSet } from './later-thumbnails.js';

/** What `directUploads` needs of an image set (`SingleImageSet`, `ImageSubset`). */
export interface DirectUploadTarget<
  I extends AttachableImage = AttachableImage,
> extends LaterThumbnailSet {
  readonly sequelize: Parameters<typeof imageTransaction>[0];
  /** The object type and id the set's files go under; the token names them. */
  fileOwner(): { objectType: string; objectId: bigint };
  fromRawFile(
    input: string | StoredObjectCopy,
    options: ThumbnailWriteOptions & {
      width: number;
      height: number;
      mimetype: string;
      original: true;
      /** The placeholder, decoded before the transaction (see upload-placeholder.ts). */
      values?: { placeholder: string | null };
    },
  ): Promise<I>;
  generateThumbnails(sizes: readonly ThumbnailSize[], options: ThumbnailWriteOptions): Promise<I[]>;
}

/** What every completion of one `directUploads` router shares. */
export interface IncomingAttach {
  store: S3Store;
  resolved: ResolvedImageOptions;
  sizes: readonly ThumbnailSize[];
  later: ThumbnailScheduler | undefined;
}

/**
 * Checks the incoming object and stores it as the set's original, with its thumbnails.
 * @throws the 4xx of `uploadImage`'s checks, 400 `E_UPLOAD_MALFORMED` when the object changed
 * after its check, 503 `E_STORE_UNAVAILABLE` when S3 failed.
 */
export async function attachIncoming<I extends AttachableImage>(
  how: IncomingAttach,
  req: IncomingMessage,
  set: DirectUploadTarget<I>,
  payload: UploadTokenPayload,
  incoming: IncomingObject,
): Promise<AttachedImage<I>> {
  const { store, resolved, sizes, later } = how;
  // Rendered in the completion, or by a job after it.
  const renderNow = later === undefined ? sizes : [];
  const paths = new Set<string>();
  let retryable = false;
  try {
    let checked: CheckedUpload;
    try {
      checked = await checkImageStream(incoming.body, resolved, {
        maxBytes: payload.maxBytes,
        onPath: (path) => paths.add(path),
        // One decode checks the image and renders its thumbnails, below.
        deferDecode:
          renderNow.length === 0 ? undefined : (path, decode) => deferDecode(req, path, decode),
      });
    } catch (error) {
      incoming.body.destroy();
      throw readFailure(error, payload.key);
    }
    const { staged, info, rasterized } = checked;
    // Decoded and rendered in a queue slot before the transaction, which then only writes
    // rows and copies objects (as attachImage's), holding no slot and, on SQLite, the
    // database's write turn for no decode.
    const renders = await renderUploadThumbnails(
      req,
      { path: staged.path, width: info.width, height: info.height, mimetype: info.mimetype },
      renderNow,
      resolved.queue,
    );
    const values = await uploadPlaceholder(set, staged.path, info.mimetype, resolved.queue);
    // The checked bytes are copied inside S3, and only if the object is still what was read.
    const source = rasterized
      ? staged.path
      : new StoredObjectCopy(
          payload.key,
          incoming.etag === undefined ? {} : { ifMatch: incoming.etag },
        );
    const { image, made, boxes } = await imageTransaction(set.sequelize, async (root) => {
      // Any failure below fails the completion and rolls all of it back: no savepoints.
      const write = { store, transaction: markAllOrNothing(root) };
      const image = await set.fromRawFile(source, {
        ...write,
        width: info.width,
        height: info.height,
        mimetype: info.mimetype,
        original: true,
        ...(values === undefined ? {} : { values }),
      });
      if (sizes.length === 0) return { image, made: [], boxes: [] };
      if (later !== undefined) {
        const boxes = await scheduleLater(set, sizes, write.transaction, later, undefined);
        return { image, made: [], boxes };
      }
      // The original just stored is the whole set, its lock held: not read again.
      const known = {
        ...write,
        source: staged.path,
        rendered: renders.get,
        [SET_IN_TRANSACTION]: [image],
      };
      return { image, made: await set.generateThumbnails(sizes, known), boxes: [] };
    }).catch((error: unknown) => {
      throw writeFailure(error);
    });
    return attachedImageOf(image, made, boxes, { store });
  } catch (error) {
    retryable = error instanceof StoreUnavailableError;
    throw error;
  } finally {
    for (const path of paths) await removeFile(path).catch(() => undefined);
    if (retryable) {
      // S3 failed, not the upload: the token may be used again, on the object still there.
      await releaseUploadToken(set.sequelize, payload.id).catch(() => undefined);
    } else {
      // A refused object must not stay, an accepted one was copied; should S3 fail now,
      // the lifecycle rule removes it.
      await deleteIncoming(store.client, store.bucket, payload.key).catch(() => undefined);
    }
  }
}

/** A failure while the incoming object was read: S3's own as 503, the checks' as they are. */
function readFailure(error: unknown, key: string): unknown {
  if (error instanceof ImageAttachError) return error;
  return storeFailure(error, key, 'read');
}

/** A failure of the writing transaction: S3 down is 503, a replaced object is the client's. */
function writeFailure(error: unknown): unknown {
  if (!(error instanceof StoreError) && !(error instanceof ImageNotFoundError)) return error;
  const cause = error.cause as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (
    error instanceof ImageNotFoundError ||
    cause?.name === 'PreconditionFailed' ||
    cause?.$metadata?.httpStatusCode === 412
  ) {
    return new UploadMalformedError(
      'The uploaded file changed or vanished while it was checked; upload it again.',
      { cause: error },
    );
  }
  if (isUnavailable(cause)) {
    return new StoreUnavailableError('The image store cannot be reached; try again later.', {
      cause: error,
    });
  }
  return error;
}
