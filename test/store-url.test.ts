import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FileSystemStore,
  HttpExposedFileSystemStore,
  InvalidStoreUrlError,
  storeFromUrl,
} from '../src/index.js';
import { S3Store } from '../src/s3.js';
import { createTestBucket, listKeys, s3Env, type TestBucket } from './support/s3.js';
import { makeTempDir } from './support/temp-dir.js';
import { readAll } from './stores/conformance.js';

describe('storeFromUrl: file:', () => {
  it('builds a FileSystemStore when baseUrl is given', async () => {
    const store = await storeFromUrl('file:///var/images?baseUrl=https://img.example.com/');
    expect(store).toBeInstanceOf(FileSystemStore);
    expect((store as FileSystemStore).path).toBe('/var/images');
    expect(store.getUrl('user', 1234, 100, 80, 'image/jpeg')).toBe(
      'https://img.example.com/user/234/1/1234.100x80.jpe',
    );
  });

  it('builds an HttpExposedFileSystemStore with a prefix, or with the default one', async () => {
    const store = await storeFromUrl(
      'file:///var/images?prefix=pics/&hostUrl=https://app.example.com/&cors=true&fsync=false',
    );
    expect(store).toBeInstanceOf(HttpExposedFileSystemStore);
    const exposed = store as HttpExposedFileSystemStore;
    expect(exposed.prefix).toBe('pics');
    expect(exposed.cors).toBe(true);
    expect(exposed.fsync).toBe(false);
    expect(store.getUrl('user', 1, 1, 1, 'image/png')).toBe(
      'https://app.example.com/pics/user/1/0/1.1x1.png',
    );
    const plain = (await storeFromUrl('file:///var/images')) as HttpExposedFileSystemStore;
    expect(plain).toBeInstanceOf(HttpExposedFileSystemStore);
    expect(plain.prefix).toBe('images');
  });

  it('decodes the path, and accepts URL objects and file://localhost/', async () => {
    const store = (await storeFromUrl(
      'file:///tmp/with%20space?baseUrl=http://x/',
    )) as FileSystemStore;
    expect(store.path).toBe('/tmp/with space');
    const fromObject = await storeFromUrl(new URL('file://localhost/srv/img?baseUrl=http://x/'));
    expect((fromObject as FileSystemStore).path).toBe('/srv/img');
  });

  it('stores files a real round trip', async () => {
    const dir = await makeTempDir('store-url');
    try {
      const store = await storeFromUrl(`file://${dir.path}?baseUrl=http://x/`);
      await store.putFile(Buffer.from('bytes'), 'u', 1234, 2, 3, 'image/png', false);
      expect(await readFile(join(dir.path, 'u/234/1/1234.2x3.png'), 'utf8')).toBe('bytes');
    } finally {
      await dir.remove();
    }
  });
});

describe('storeFromUrl: s3:', () => {
  let bucket: TestBucket;
  beforeAll(async () => {
    bucket = await createTestBucket('url');
  });
  afterAll(async () => {
    await bucket.remove();
  });

  it('builds an S3Store that reaches the server, credentials from the URL', async () => {
    const env = s3Env();
    const url =
      `s3://${encodeURIComponent(env.accessKeyId)}:${encodeURIComponent(env.secretAccessKey)}@` +
      `${bucket.name}/some/prefix?region=us-east-1&endpoint=${encodeURIComponent(env.endpoint)}` +
      '&forcePathStyle=true&publicBaseUrl=https://cdn.example.com&maxAge=60&maxAttempts=2&acl=none';
    const store = await storeFromUrl(url);
    expect(store).toBeInstanceOf(S3Store);
    try {
      expect(store.getUrl('user', 1234, 100, 80, 'image/jpeg')).toBe(
        'https://cdn.example.com/some/prefix/user/1234/100x80.jpe',
      );
      await store.putFile(Buffer.from('in s3'), 'user', 1234, 100, 80, 'image/jpeg', false);
      expect(await listKeys(bucket.client, bucket.name)).toEqual([
        'some/prefix/user/1234/100x80.jpe',
      ]);
      const bytes = await readAll(await store.getFile('user', 1234, 100, 80, 'image/jpeg'));
      expect(bytes.toString()).toBe('in s3');
      await store.deleteFile('user', 1234, 100, 80, 'image/jpeg');
    } finally {
      (store as S3Store).destroy();
    }
  });
});

describe('storeFromUrl: invalid URLs', () => {
  it.each([
    ['not a url', 'url'],
    ['ftp://host/images', 'scheme'],
    ['file://fileserver/share', 'host'],
    ['file:///x?baseurl=http://x/', 'baseurl'],
    ['file:///x?baseUrl=http://x/&prefix=images/', 'prefix'],
    ['file:///x?cors=yes', 'cors'],
    ['file:///x?hostUrl=example.com', 'hostUrl'],
    ['file:///x?baseUrl=', 'baseUrl'],
    ['file:///x#top', 'fragment'],
    ['s3:///prefix', 'bucket'],
    ['s3://bucket:9000/prefix', 'host'],
    ['s3://KEY@bucket/', 'credentials'],
    ['s3://bucket?maxAge=-1', 'maxAge'],
    ['s3://bucket?forcePathStyle=maybe', 'forcePathStyle'],
    ['s3://bucket?endpoint=localhost:9000', 'endpoint'],
    ['s3://bucket?region=a&region=b', 'region'],
    ['s3://bucket?partSize=1', 'partSize'],
    ['s3://bucket?bucket=other', 'bucket'],
    ['file:var/images', 'path'],
    ['file:/var/images', 'path'],
    ['FILE:images?baseUrl=http://x/', 'path'],
    ['s3:bucket/prefix', 'url'],
  ])('%s fails naming %s', async (url, part) => {
    const error = await storeFromUrl(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidStoreUrlError);
    expect((error as InvalidStoreUrlError).code).toBe('E_INVALID_STORE_URL');
    expect((error as InvalidStoreUrlError).part).toBe(part);
  });
});

describe('storeFromUrl: file URLs are absolute', () => {
  it('refuses file:relative, naming the absolute file:// URL it may have meant', async () => {
    const error = await storeFromUrl('file:var/images?baseUrl=http://x/').catch((e: unknown) => e);
    expect((error as InvalidStoreUrlError).code).toBe('E_INVALID_STORE_URL');
    const meant = `${pathToFileURL(resolve('var/images')).href}?baseUrl=http://x/`;
    expect((error as Error).message).toContain(meant);
  });

  it.each(['file://', 'file:///', 'file://localhost/', 'file:///?baseUrl=http://x/'])(
    'refuses %s, the root folder (a path left out)',
    async (url) => {
      await expect(storeFromUrl(url)).rejects.toMatchObject({
        code: 'E_INVALID_STORE_URL',
        part: 'path',
      });
    },
  );
});

describe('storeFromUrl: loading', () => {
  const run = promisify(execFile);

  async function importsOf(url: string): Promise<string[]> {
    const dir = await makeTempDir('store-url-imports');
    const record = join(dir.path, 'imports.txt');
    try {
      // The SDK is CommonJS, loaded through require(): the modules required are in its cache.
      const script =
        "const { storeFromUrl } = await import('./src/stores/store-url.ts');" +
        `await storeFromUrl(${JSON.stringify(url)});` +
        "const { createRequire } = await import('node:module');" +
        'console.log(Object.keys(createRequire(import.meta.url).cache).join("\\n"));';
      const { stdout } = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          '--import',
          './test/fixtures/migration/record-imports.js',
          '--input-type=module',
          '-e',
          script,
        ],
        { env: { ...process.env, RECORD_IMPORTS: record } },
      );
      return [...(await readFile(record, 'utf8')).split('\n'), ...stdout.split('\n')];
    } finally {
      await dir.remove();
    }
  }

  it('never loads the AWS SDK for a file: store, and loads it for an s3: store', async () => {
    const file = await importsOf('file:///var/images');
    expect(file.some((name) => name.includes('store-url'))).toBe(true);
    expect(file.filter((name) => name.includes('@aws-sdk'))).toEqual([]);
    const s3 = await importsOf('s3://bucket?region=us-east-1');
    expect(s3.some((name) => name.includes('@aws-sdk'))).toBe(true);
  });
});
