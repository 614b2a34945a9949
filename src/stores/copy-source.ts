/**
 * A file that is already in the store, outside its layout (a direct upload's incoming object),
 * given to `fromRawFile` instead of bytes: the store copies it server-side (`Store#copyFile`)
 * into the image's key, so the bytes never pass through this process.
 */
import type { CopyFileOptions } from './store.js';

export class StoredObjectCopy {
  constructor(
    /** The store's own name of the object (an S3 object key). */
    readonly source: string,
    readonly options: CopyFileOptions = {},
  ) {
    if (typeof source !== 'string' || source === '') {
      throw new TypeError('source must be the name of an object in the store');
    }
  }
}
