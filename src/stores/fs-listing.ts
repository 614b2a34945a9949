/**
 * Lists a file-system store: walks `type/(id mod 1000)/(id div 1000)/id.WxH.ext` and parses the
 * names back into keys. Only names that the layout would produce again from the parsed key are
 * listed, so a file the store did not write is never taken for one of its images.
 */
import type { Dirent } from 'node:fs';
import { lstat, opendir, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { StoreError } from '../errors.js';
import { MIMETYPE_OF_EXTENSION } from '../images/formats.js';
import { fileSystemSegments, validateImageKey, type ImageKey } from './keys.js';
import { orderKeyOf } from './key-order.js';
import type { ListedFile, ListFilesOptions } from './store.js';

/** `id.WxH.ext`: the name of a stored file. */
const FILE_NAME = /^(-?\d+)\.(\d+)x(\d+)(\.[a-z0-9]+)$/;
/** `.id.WxH.ext.<16 hex>.tmp`: the temporary file of a write in progress (see `putFile`). */
const TEMP_NAME = /^\.(.+)\.[0-9a-f]{16}\.tmp$/;

export { MIMETYPE_OF_EXTENSION };

/** Parses `id.WxH.ext` in its folder back into a key, or `undefined` when it is not one. */
export function parseFileSystemName(segments: readonly string[]): ImageKey | undefined {
  const [objectType, , , name] = segments;
  if (segments.length !== 4 || objectType === undefined || name === undefined) return undefined;
  const match = FILE_NAME.exec(name);
  if (match === null) return undefined;
  const [, id, width, height, extension] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const mimetype = MIMETYPE_OF_EXTENSION.get(extension);
  if (mimetype === undefined) return undefined;
  try {
    const key = validateImageKey(objectType, BigInt(id), Number(width), Number(height), mimetype);
    // Leading zeros, a folder that does not match the id: not a name this store writes.
    if (fileSystemSegments(key).join('/') !== segments.join('/')) return undefined;
    return { objectType, objectId: key.objectId, width: key.width, height: key.height, mimetype };
  } catch {
    return undefined;
  }
}

/**
 * Every file of the layout under `root`, temporary files included; symlinks are not followed.
 * With `objectTypePrefix` or `keyPrefix`, folders that cannot hold a needed file are skipped
 * (see `folderMayHold`) and files outside `keyPrefix` are dropped before they are looked at.
 */
export async function* listFileSystemStore(
  root: string,
  options: ListFilesOptions = {},
): AsyncGenerator<ListedFile> {
  const { keyPrefix } = options;
  const mayHold = (segments: readonly string[]) => folderMayHold(segments, options);
  for await (const [segments, path] of walk(root, [], 4, mayHold)) {
    const name = segments[3] as string;
    const temp = TEMP_NAME.exec(name);
    const key = parseFileSystemName(
      temp === null ? segments : [...segments.slice(0, 3), temp[1] as string],
    );
    if (key === undefined) continue;
    if (keyPrefix !== undefined && !orderKeyOf(key).startsWith(keyPrefix)) continue;
    let stats;
    try {
      stats = await lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted meanwhile
      throw new StoreError(`Could not list ${path}.`, path, { cause: error });
    }
    if (!stats.isFile()) continue;
    yield {
      key,
      name: segments.join('/'),
      size: stats.size,
      modifiedAt: stats.mtime,
      temporary: temp !== null,
    };
  }
}

/**
 * Whether the folder `type/` or `type/(id mod 1000)/(id div 1000)/` may hold a file the options
 * ask for. The type folder is matched against both prefixes. An id prefix cannot choose the
 * `id mod 1000` folder (it holds ids of every leading digit), but it chooses the `id div 1000`
 * one: that is the id without its last three digits (0 below 1000, negative for a negative
 * id), so it and the prefix must start alike.
 */
function folderMayHold(segments: readonly string[], options: ListFilesOptions): boolean {
  const { objectTypePrefix = '', keyPrefix } = options;
  const [type, , div] = segments as [string, string?, string?];
  if (segments.length === 1) {
    if (!type.startsWith(objectTypePrefix)) return false;
    if (keyPrefix === undefined) return true;
    const slash = keyPrefix.indexOf('/');
    return slash === -1 ? type.startsWith(keyPrefix) : type === keyPrefix.slice(0, slash);
  }
  if (segments.length !== 3 || div === undefined || keyPrefix === undefined) return true;
  const idDigits = /^[^/]*\/(-?\d*)/.exec(keyPrefix)?.[1] ?? '';
  if (idDigits === '') return true;
  if (idDigits.startsWith('-')) return div.startsWith('-');
  if (div.startsWith('-')) return false;
  return div === '0' || div.startsWith(idDigits) || idDigits.startsWith(div);
}

/** Removes a listed file by its name; refuses a name that leaves `root`. */
export async function removeListedFile(root: string, file: ListedFile): Promise<void> {
  const path = resolve(root, ...file.name.split('/'));
  if (
    !path.startsWith(root.endsWith(sep) ? root : root + sep) ||
    file.name.split('/').length !== 4
  ) {
    throw new TypeError(`the name ${JSON.stringify(file.name)} is not a file of this store`);
  }
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new StoreError(`Could not delete ${path}.`, path, { cause: error });
  }
}

/** Files exactly `depth` folders down, as their segments and path. */
async function* walk(
  dir: string,
  segments: readonly string[],
  depth: number,
  mayHold: (segments: readonly string[]) => boolean,
): AsyncGenerator<[string[], string]> {
  let entries: AsyncIterable<Dirent>;
  try {
    entries = await opendir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // The store's folder not made yet, or a folder removed while we walk: nothing there.
    if (code === 'ENOENT' || (code === 'ENOTDIR' && segments.length > 0)) return;
    throw new StoreError(`Could not list ${dir}.`, dir, { cause: error });
  }
  try {
    for await (const entry of entries) {
      const path = join(dir, entry.name);
      const next = [...segments, entry.name];
      if (next.length === depth) {
        if (entry.isFile()) yield [next, path];
      } else if (entry.isDirectory() && mayHold(next)) {
        yield* walk(path, next, depth, mayHold);
      }
    }
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`Could not list ${dir}.`, dir, { cause: error });
  }
}
