import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
import { S3Store, type S3StoreOptions } from '../../src/s3.js';

function optionError(options: unknown): InvalidOptionError | undefined {
  try {
    new S3Store(options as S3StoreOptions);
  } catch (error) {
    return error as InvalidOptionError;
  }
  return undefined;
}

describe('S3Store options', () => {
  it.each([
    ['bucket', {}],
    ['bucket', { bucket: 'No_Such' }],
    ['prefix', { bucket: 'b-1', prefix: 3 }],
    ['publicBaseUrl', { bucket: 'b-1', publicBaseUrl: 'example.com' }],
    ['endpoint', { bucket: 'b-1', endpoint: 'ftp://127.0.0.1' }],
    ['forcePathStyle', { bucket: 'b-1', forcePathStyle: 'yes' }],
    ['client', { bucket: 'b-1', client: {} }],
    ['credentials', { bucket: 'b-1', client: new S3Client({}), credentials: {} }],
    ['acl', { bucket: 'b-1', acl: 1 }],
    ['storageClass', { bucket: 'b-1', storageClass: 1 }],
    ['thumbnailStorageClass', { bucket: 'b-1', thumbnailStorageClass: 1 }],
    ['maxAge', { bucket: 'b-1', maxAge: -1 }],
    ['maxAge', { bucket: 'b-1', maxAge: 1.5 }],
    ['maxAttempts', { bucket: 'b-1', maxAttempts: 0 }],
    ['connectionTimeout', { bucket: 'b-1', connectionTimeout: 0 }],
    ['socketTimeout', { bucket: 'b-1', socketTimeout: 1.5 }],
    ['socketTimeout', { bucket: 'b-1', client: new S3Client({}), socketTimeout: 1000 }],
    ['partSize', { bucket: 'b-1', partSize: 1024 }],
    ['queueSize', { bucket: 'b-1', queueSize: 0 }],
  ])('names %s when it is invalid (%j)', (option, options) => {
    const error = optionError(options);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error?.code).toBe('E_INVALID_OPTION');
    expect(error?.option).toBe(option);
  });

  it('refuses a missing options object, naming it', () => {
    expect(optionError(undefined)?.option).toBe('options');
  });

  it('resolves the defaults of the original', () => {
    const store = new S3Store({ bucket: 'mybucket' });
    expect(store.prefix).toBe('');
    expect(store.maxAge).toBe(31_536_000);
    expect(store.acl).toBe('public-read');
    expect(store.storageClass).toBeUndefined();
    expect(store.thumbnailStorageClass).toBe('REDUCED_REDUNDANCY');
    expect(new S3Store({ bucket: 'mybucket', maxAge: 0, acl: null }).maxAge).toBe(0);
    expect(new S3Store({ bucket: 'mybucket', acl: null }).acl).toBeNull();
  });

  it('gives the built client maxAttempts, the region and WHEN_REQUIRED checksums', async () => {
    const store = new S3Store({ bucket: 'mybucket', region: 'eu-west-1', maxAttempts: 3 });
    const { config } = store.client;
    expect(await config.maxAttempts()).toBe(3);
    expect(await config.region()).toBe('eu-west-1');
    expect(await config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    expect(await new S3Store({ bucket: 'mybucket' }).client.config.maxAttempts()).toBe(5);
    store.destroy();
  });

  it('uses a given client as it is', () => {
    const client = new S3Client({ region: 'us-east-2' });
    expect(new S3Store({ bucket: 'mybucket', client }).client).toBe(client);
    client.destroy();
  });
});

describe('S3Store URLs and keys (the original layout)', () => {
  const url = (options: S3StoreOptions, id: bigint | number = 1234) =>
    new S3Store(options).getUrl('user', id, 100, 80, 'image/jpeg');

  it('keys objects [prefix/]type/id/WxH.ext with .jpe for JPEG', () => {
    expect(new S3Store({ bucket: 'mybucket' }).objectKey('user', 1234, 100, 80, 'image/jpeg')).toBe(
      'user/1234/100x80.jpe',
    );
    for (const prefix of ['prod', 'prod/', '  prod/ ', 'prod//']) {
      expect(
        new S3Store({ bucket: 'mybucket', prefix }).objectKey('user', -5, 1, 2, 'image/png'),
      ).toBe('prod/user/-5/1x2.png');
    }
  });

  it('addresses AWS virtual-hosted style, as the original does', () => {
    expect(url({ bucket: 'mybucket' })).toBe(
      'https://mybucket.s3.amazonaws.com/user/1234/100x80.jpe',
    );
    expect(url({ bucket: 'mybucket', region: 'us-east-2', prefix: 'prod' })).toBe(
      'https://mybucket.s3.us-east-2.amazonaws.com/prod/user/1234/100x80.jpe',
    );
  });

  it('addresses AWS path style when asked, or when the bucket name has a dot', () => {
    expect(url({ bucket: 'mybucket', region: 'eu-west-1', forcePathStyle: true })).toBe(
      'https://s3.eu-west-1.amazonaws.com/mybucket/user/1234/100x80.jpe',
    );
    expect(url({ bucket: 'img.example.com' })).toBe(
      'https://s3.amazonaws.com/img.example.com/user/1234/100x80.jpe',
    );
  });

  it('addresses a custom endpoint path style or virtual-hosted style', () => {
    expect(url({ bucket: 'b-1', endpoint: 'http://127.0.0.1:7480/', forcePathStyle: true })).toBe(
      'http://127.0.0.1:7480/b-1/user/1234/100x80.jpe',
    );
    expect(url({ bucket: 'b-1', endpoint: 'https://storage.example.net' })).toBe(
      'https://b-1.storage.example.net/user/1234/100x80.jpe',
    );
  });

  it('puts publicBaseUrl (trailing slashes trimmed) in front of the key', () => {
    for (const publicBaseUrl of ['https://example.com', 'https://example.com/']) {
      expect(url({ bucket: 'b-1', publicBaseUrl, prefix: 'prefixtest/' })).toBe(
        'https://example.com/prefixtest/user/1234/100x80.jpe',
      );
    }
    expect(
      url(
        { bucket: 'b-1', publicBaseUrl: 'https://cdn.example.com/img/' },
        158166530401166902469325588563807197535n,
      ),
    ).toBe('https://cdn.example.com/img/user/158166530401166902469325588563807197535/100x80.jpe');
  });

  it('percent-encodes what a key segment may hold', () => {
    expect(
      new S3Store({ bucket: 'b-1', publicBaseUrl: 'https://x.test' }).getUrl(
        'a b?#',
        1,
        1,
        1,
        'image/png',
      ),
    ).toBe('https://x.test/a%20b%3F%23/1/1x1.png');
  });
});

describe('S3Store debug log', () => {
  it('logs under NODE_DEBUG=imageattach:s3 without the credentials', async () => {
    const script = `const { S3Store } = await import('./src/s3.ts');
      new S3Store({ bucket: 'b-1', credentials: { accessKeyId: 'AKIDLOGGED', secretAccessKey: 'SECRET-NOT-LOGGED' } });`;
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, NODE_DEBUG: 'imageattach:s3' },
      },
    );
    expect(stderr).toMatch(/IMAGEATTACH:S3 \d+: S3Store bucket=b-1 .*credentials=\[redacted\]/);
    expect(stderr).not.toContain('SECRET-NOT-LOGGED');
    expect(stderr).not.toContain('AKIDLOGGED');
  });
});

describe('the sequelize-imageattach/s3 subpath', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  // A resolve hook that refuses @aws-sdk, and a look at the CommonJS cache for anything that
  // slipped past it through require().
  const hook =
    'export async function resolve(s, c, next) { const r = await next(s, c);' +
    " if (r.url.includes('/node_modules/@aws-sdk/')) throw new Error('LOADED ' + r.url); return r; }";
  const script = (entry: string) =>
    `import { register, createRequire } from 'node:module';
     register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
     const mod = await import(${JSON.stringify(entry)});
     const cached = Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('@aws-sdk'));
     if (cached.length > 0) throw new Error('LOADED ' + cached[0]);
     console.log('clean', Object.keys(mod).length);`;
  const run = (entry: string) =>
    promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script(entry)],
      { cwd: root },
    );

  it('keeps the AWS SDK out of the core: importing src/index.ts loads no @aws-sdk module', async () => {
    const { stdout } = await run('./src/index.ts');
    expect(stdout).toMatch(/^clean \d+/);
  });

  it('loads the AWS SDK from src/s3.ts (so the check above can see it)', async () => {
    await expect(run('./src/s3.ts')).rejects.toThrow(/LOADED .*@aws-sdk/);
  });
});
