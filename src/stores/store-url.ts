/**
 * Stores named by URL, as databases are, so that configuration and the command-line tool can
 * name them (the original's users asked for it: issues 5 and 11).
 */
import { parse as parsePath, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidOptionError, InvalidStoreUrlError } from '../errors.js';
import { FileSystemStore } from './fs.js';
import { HttpExposedFileSystemStore } from './http-exposed-fs.js';
import type { Store } from './store.js';

const FILE_PARAMS = ['baseUrl', 'prefix', 'hostUrl', 'cors', 'fsync'] as const;
const S3_PARAMS = [
  'region',
  'endpoint',
  'forcePathStyle',
  'publicBaseUrl',
  'maxAge',
  'acl',
  'storageClass',
  'thumbnailStorageClass',
  'maxAttempts',
  'partSize',
  'queueSize',
] as const;

/**
 * Builds a store from a URL:
 * A file URL names an absolute path (`file:///var/images`); `file:var/images` and `file:/var/images`
 * are refused, with the absolute URL of what they may have meant in the message.
 * - `file:///var/images?baseUrl=https://img.example.com/`: a {@link FileSystemStore} whose
 *   folder another server serves at `baseUrl` (`fsync=false` is accepted too);
 * - `file:///var/images` or `file:///var/images?prefix=images/`: an
 *   {@link HttpExposedFileSystemStore} (`hostUrl=…`, `cors=true`, `fsync=false` too);
 * - `s3://bucket/prefix?region=…&endpoint=…&forcePathStyle=true&publicBaseUrl=…`: an S3Store
 *   (`maxAge`, `acl` (`none` for no ACL), `storageClass`, `thumbnailStorageClass` (`none` for the
 *   bucket's), `maxAttempts`, `partSize`, `queueSize` too). Credentials come from the SDK's
 *   default chain, or from `s3://ACCESS_KEY:SECRET@bucket/`. The AWS SDK is loaded only here.
 *
 * @throws {InvalidStoreUrlError} naming the part of the URL that is wrong (`part`).
 * @example
 * const store = await storeFromUrl(process.env.IMAGE_STORE ?? 'file:///var/images');
 */
export async function storeFromUrl(url: string | URL): Promise<Store> {
  const parsed = parse(url);
  switch (parsed.protocol) {
    case 'file:':
      return fileStore(parsed);
    case 's3:':
      return s3Store(parsed);
    default:
      throw new InvalidStoreUrlError(
        'scheme',
        `${JSON.stringify(parsed.protocol)} is not a store scheme; use file: or s3:`,
      );
  }
}

function parse(url: string | URL): URL {
  if (url instanceof URL) return url;
  if (typeof url !== 'string') {
    throw new InvalidStoreUrlError('url', 'must be a string such as file:///var/images');
  }
  // `file:var/images` is a valid URL of /var/images: refused, since it was surely meant as a
  // folder relative to the working directory, and gc --delete on the wrong one is no mistake
  // to make silently. Likewise `file:/path` and `s3:bucket`: the two slashes are required.
  const scheme = /^(file|s3):(?!\/\/)([^?#]*)(.*)$/is.exec(url);
  if (scheme !== null) {
    const [, name, path, query] = scheme as unknown as [string, string, string, string];
    const file = name.toLowerCase() === 'file';
    const meant = file
      ? `file:// and an absolute path, such as ${pathToFileURL(resolve(path)).href}${query}`
      : 's3://bucket/prefix';
    throw new InvalidStoreUrlError(
      file ? 'path' : 'url',
      `${JSON.stringify(url)} lacks the // after ${name}:; write ${meant}`,
    );
  }
  try {
    return new URL(url);
  } catch (error) {
    throw new InvalidStoreUrlError(
      'url',
      `${JSON.stringify(url)} is not a URL; write file:///absolute/path or s3://bucket/prefix`,
      { cause: error },
    );
  }
}

function fileStore(url: URL): Store {
  const params = readParams(url, FILE_PARAMS);
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw new InvalidStoreUrlError(
      'host',
      `a file URL names a local folder; write file:///path, not file://${url.hostname}/…`,
    );
  }
  const path = fileURLToPath(url);
  // `file://` parses as the root folder: surely a path left out, and gc --delete would walk `/`.
  if (path === parsePath(path).root) {
    throw new InvalidStoreUrlError(
      'path',
      `${JSON.stringify(url.href)} names the root folder; write the images' folder, such as file:///var/images`,
    );
  }
  const fsync = booleanParam(params, 'fsync');
  if (params.baseUrl !== undefined) {
    for (const name of ['prefix', 'hostUrl', 'cors'] as const) {
      if (params[name] !== undefined) {
        throw new InvalidStoreUrlError(
          name,
          `${name} is for a store that serves itself; with baseUrl another server serves the folder`,
        );
      }
    }
    return build(() => new FileSystemStore({ path, baseUrl: params.baseUrl!, fsync }));
  }
  const hostUrl = params.hostUrl;
  if (hostUrl !== undefined) absoluteUrlParam('hostUrl', hostUrl);
  return build(
    () =>
      new HttpExposedFileSystemStore({
        path,
        prefix: params.prefix,
        fsync,
        cors: booleanParam(params, 'cors'),
        hostUrlGetter: hostUrl === undefined ? undefined : () => hostUrl,
      }),
  );
}

async function s3Store(url: URL): Promise<Store> {
  const params = readParams(url, S3_PARAMS);
  const bucket = decode(url.hostname, 'bucket');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) {
    throw new InvalidStoreUrlError('bucket', `${JSON.stringify(bucket)} is not a bucket name`);
  }
  if (url.port !== '') {
    throw new InvalidStoreUrlError('host', 'an s3 URL names a bucket; give a server as ?endpoint=');
  }
  const user = decode(url.username, 'credentials');
  const secret = decode(url.password, 'credentials');
  if ((user === '') !== (secret === '')) {
    throw new InvalidStoreUrlError('credentials', 'give both ACCESS_KEY:SECRET@, or neither');
  }
  if (params.endpoint !== undefined) absoluteUrlParam('endpoint', params.endpoint);
  if (params.publicBaseUrl !== undefined) absoluteUrlParam('publicBaseUrl', params.publicBaseUrl);
  const prefix = decode(url.pathname.replace(/^\/+/, ''), 'path');
  const options = {
    bucket,
    prefix: prefix === '' ? undefined : prefix,
    region: params.region,
    endpoint: params.endpoint,
    forcePathStyle: booleanParam(params, 'forcePathStyle'),
    publicBaseUrl: params.publicBaseUrl,
    maxAge: integerParam(params, 'maxAge'),
    maxAttempts: integerParam(params, 'maxAttempts'),
    partSize: integerParam(params, 'partSize'),
    queueSize: integerParam(params, 'queueSize'),
    credentials: user === '' ? undefined : { accessKeyId: user, secretAccessKey: secret },
  };
  // Loaded here so that users of file: stores never load the AWS SDK.
  const { S3Store } = await import('../s3.js');
  type Options = ConstructorParameters<typeof S3Store>[0];
  const { acl, storageClass, thumbnailStorageClass } = params;
  return build(
    () =>
      new S3Store({
        ...options,
        acl: acl === 'none' ? null : (acl as Options['acl']),
        storageClass: storageClass as Options['storageClass'],
        thumbnailStorageClass:
          thumbnailStorageClass === 'none'
            ? null
            : (thumbnailStorageClass as Options['thumbnailStorageClass']),
      }),
  );
}

type Params<K extends string> = Partial<Record<K, string>>;

/** The query parameters, refusing unknown and repeated ones (a typo must not pass silently). */
function readParams<K extends string>(url: URL, known: readonly K[]): Params<K> {
  const params: Params<K> = {};
  for (const [name, value] of url.searchParams) {
    if (!(known as readonly string[]).includes(name)) {
      throw new InvalidStoreUrlError(
        name,
        `unknown parameter for a ${url.protocol} store; known: ${known.join(', ')}`,
      );
    }
    if (params[name as K] !== undefined) {
      throw new InvalidStoreUrlError(name, 'is given more than once');
    }
    params[name as K] = value;
  }
  if (url.hash !== '') throw new InvalidStoreUrlError('fragment', 'a store URL has no #fragment');
  return params;
}

function booleanParam<K extends string>(params: Params<K>, name: K): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidStoreUrlError(name, `must be true or false, not ${JSON.stringify(value)}`);
}

function integerParam<K extends string>(params: Params<K>, name: K): number | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidStoreUrlError(name, `must be a whole number, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function absoluteUrlParam(name: string, value: string): void {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new InvalidStoreUrlError(name, `must be an http(s) URL, not ${JSON.stringify(value)}`);
  }
}

function decode(value: string, part: string): string {
  try {
    return decodeURIComponent(value);
  } catch (error) {
    throw new InvalidStoreUrlError(part, 'has a malformed %-escape', { cause: error });
  }
}

/** Runs a store constructor, turning an option it refuses into an error about the URL. */
function build<T>(construct: () => T): T {
  try {
    return construct();
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      throw new InvalidStoreUrlError(error.option, error.message, { cause: error });
    }
    throw error;
  }
}
