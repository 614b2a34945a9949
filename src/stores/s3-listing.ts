/**
 * Lists an S3 store: pages through `ListObjects` under the store's prefix and parses each
 * object key (`[prefix/]type/id/WxH.ext`) back into an image key. Only keys that the layout
 * would produce again from the parsed key are listed. S3 has no temporary files: an upload
 * becomes visible whole or not at all.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { MIMETYPE_OF_EXTENSION } from './fs-listing.js';
import { objectStorageKey, validateImageKey, type ImageKey } from './keys.js';
import { isNotFound, s3Error } from './s3-errors.js';
import { s3Sdk } from './s3-sdk.js';
import type { ListedFile, ListFilesOptions } from './store.js';

const FILE_NAME = /^(\d+)x(\d+)(\.[a-z0-9]+)$/;

/** Parses `type/id/WxH.ext` (without the store's prefix), or `undefined` when it is not one. */
export function parseObjectStorageKey(path: string): ImageKey | undefined {
  const segments = path.split('/');
  const [objectType, id, name] = segments;
  if (segments.length !== 3 || objectType === undefined || id === undefined) return undefined;
  const match = FILE_NAME.exec(name ?? '');
  if (match === null || !/^-?\d+$/.test(id)) return undefined;
  const mimetype = MIMETYPE_OF_EXTENSION.get(match[3] as string);
  if (mimetype === undefined) return undefined;
  try {
    const key = validateImageKey(
      objectType,
      BigInt(id),
      Number(match[1]),
      Number(match[2]),
      mimetype,
    );
    if (objectStorageKey(key) !== path) return undefined;
    return { objectType, objectId: key.objectId, width: key.width, height: key.height, mimetype };
  } catch {
    return undefined;
  }
}

export async function* listS3Store(
  client: S3Client,
  bucket: string,
  prefix: string,
  options: ListFilesOptions = {},
): AsyncGenerator<ListedFile> {
  const base = prefix === '' ? '' : `${prefix}/`;
  // The longer hint: a key prefix names its type whole, where the type prefix may be a part.
  const listed = base + (options.keyPrefix ?? options.objectTypePrefix ?? '');
  // ListObjects (v1) pages by key: every S3-compatible server has it, where some cannot make
  // v2's continuation tokens (s3rver needs DES, which OpenSSL 3 lacks).
  let marker: string | undefined;
  do {
    let page;
    try {
      page = await client.send(
        new s3Sdk.ListObjectsCommand({ Bucket: bucket, Prefix: listed, Marker: marker }),
      );
    } catch (error) {
      throw s3Error(error, listed, 'list objects under');
    }
    for (const object of page.Contents ?? []) {
      const name = object.Key;
      if (name === undefined || !name.startsWith(base)) continue;
      const key = parseObjectStorageKey(name.slice(base.length));
      if (key === undefined) continue;
      yield {
        key,
        name,
        size: object.Size ?? 0,
        modifiedAt: object.LastModified ?? new Date(0),
        temporary: false,
      };
    }
    marker =
      page.IsTruncated === true ? (page.NextMarker ?? page.Contents?.at(-1)?.Key) : undefined;
  } while (marker !== undefined);
}

/** Removes a listed object by its name; refuses a name outside the store's prefix. */
export async function deleteListedObject(
  client: S3Client,
  bucket: string,
  prefix: string,
  file: ListedFile,
): Promise<void> {
  const base = prefix === '' ? '' : `${prefix}/`;
  if (
    typeof file?.name !== 'string' ||
    !file.name.startsWith(base) ||
    parseObjectStorageKey(file.name.slice(base.length)) === undefined
  ) {
    throw new TypeError(`the name ${JSON.stringify(file?.name)} is not a file of this store`);
  }
  try {
    await client.send(new s3Sdk.DeleteObjectCommand({ Bucket: bucket, Key: file.name }));
  } catch (error) {
    if (isNotFound(error)) return;
    throw s3Error(error, file.name, 'delete');
  }
}
