import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { ImageNotFoundError, StoreError } from '../../src/index.js';
import { S3Store } from '../../src/s3.js';
import {
  listKeys,
  rawClient,
  s3Env,
  s3StoreFixture,
  s3StoreOptions,
  incomingSources,
  serverEnforcesAccess,
  type TestBucket,
} from '../support/s3.js';
import { generatedStream, readAll, sha256Of, testStore, uniqueType } from './conformance.js';

/** What the conformance suite checks of every S3Store: all of it. */
const S3_FLAGS = { stat: true, list: true, httpUrls: true, copy: incomingSources };

/** The bucket of a fixture made by s3StoreFixture. */
const buckets = new WeakMap<object, TestBucket>();

async function fixture(extra: Parameters<typeof s3StoreFixture>[0] = {}) {
  const made = await s3StoreFixture(extra);
  buckets.set(made.store, made.bucket);
  return made;
}

function bucketOf(store: object): TestBucket {
  const bucket = buckets.get(store);
  if (bucket === undefined) throw new Error('not a store made by fixture()');
  return bucket;
}

testStore(
  'S3Store',
  () => fixture(),
  (get) => {
    it('lists with keyPrefix exactly the objects of that key range', async () => {
      const store = get().store;
      const type = uniqueType();
      const ids = [0, 1, 12, 123, 1234, 2_012, -12];
      for (const id of ids)
        await store.putFile(Buffer.from('x'), type, id, 1, 1, 'image/png', false);
      for (const [idPrefix, expected] of [
        ['1', [1, 12, 123, 1234]],
        ['12', [12, 123, 1234]],
        ['1/', [1]],
        ['-', [-12]],
        ['0', [0]],
      ] as const) {
        const listed: string[] = [];
        for await (const file of store.listFiles({ keyPrefix: `${type}/${idPrefix}` })) {
          listed.push(String(file.key.objectId));
        }
        expect(listed.sort(), idPrefix).toEqual(expected.map(String).sort());
      }
    });

    it('keys objects as type/id/WxH.ext and gives their path-style URL on the endpoint', async () => {
      const store = get().store;
      const { name, client } = bucketOf(store);
      const type = uniqueType();
      for (const id of [1234, -1234, 158166530401166902469325588563807197535n]) {
        await store.putFile(Buffer.from('x'), type, id, 100, 80, 'image/jpeg', false);
        expect(store.getUrl(type, id, 100, 80, 'image/jpeg')).toBe(
          `${s3Env().endpoint}/${name}/${type}/${id}/100x80.jpe`,
        );
      }
      expect((await listKeys(client, name, `${type}/`)).sort()).toEqual(
        [
          `${type}/-1234/100x80.jpe`,
          `${type}/1234/100x80.jpe`,
          `${type}/158166530401166902469325588563807197535/100x80.jpe`,
        ].sort(),
      );
    });

    it('stores Content-Type, Cache-Control and the storage class of originals and thumbnails', async () => {
      const store = get().store;
      const { name, client } = bucketOf(store);
      const type = uniqueType();
      await store.putFile(Buffer.from('o'), type, 1, 405, 640, 'image/jpeg', false);
      await store.putFile(Readable.from([Buffer.from('t')]), type, 1, 40, 64, 'image/png', true);
      const original = await client.send(
        new HeadObjectCommand({ Bucket: name, Key: `${type}/1/405x640.jpe` }),
      );
      const thumbnail = await client.send(
        new HeadObjectCommand({ Bucket: name, Key: `${type}/1/40x64.png` }),
      );
      expect(original.ContentType).toBe('image/jpeg');
      expect(original.CacheControl).toBe('max-age=31536000');
      expect(original.StorageClass ?? 'STANDARD').toBe('STANDARD');
      expect(thumbnail.ContentType).toBe('image/png');
      expect(thumbnail.StorageClass).toBe('REDUCED_REDUNDANCY');
    });

    it('stores SVGs with Content-Disposition: attachment, and other types without it', async () => {
      const store = get().store;
      const { name, client } = bucketOf(store);
      const type = uniqueType();
      await store.putFile(Buffer.from('<svg/>'), type, 1, 10, 10, 'image/svg+xml', false);
      await store.putFile(Buffer.from('p'), type, 1, 5, 5, 'image/png', true);
      const svg = await client.send(
        new HeadObjectCommand({ Bucket: name, Key: `${type}/1/10x10.svg` }),
      );
      const png = await client.send(
        new HeadObjectCommand({ Bucket: name, Key: `${type}/1/5x5.png` }),
      );
      expect(svg.ContentType).toBe('image/svg+xml');
      expect(svg.ContentDisposition).toBe('attachment');
      expect(png.ContentDisposition).toBeUndefined();
    });

    it('applies maxAge, storageClass and thumbnailStorageClass options', async () => {
      const { name, client } = bucketOf(get().store);
      const store = new S3Store(
        s3StoreOptions(name, {
          maxAge: 60,
          storageClass: 'REDUCED_REDUNDANCY',
          thumbnailStorageClass: 'STANDARD',
        }),
      );
      const type = uniqueType();
      await store.putFile(Buffer.from('o'), type, 2, 1, 1, 'image/gif', false);
      await store.putFile(Buffer.from('t'), type, 2, 2, 2, 'image/gif', true);
      const original = await client.send(
        new HeadObjectCommand({ Bucket: name, Key: `${type}/2/1x1.gif` }),
      );
      const thumbnail = await client.send(
        new HeadObjectCommand({ Bucket: name, Key: `${type}/2/2x2.gif` }),
      );
      expect(original.CacheControl).toBe('max-age=60');
      expect(original.StorageClass).toBe('REDUCED_REDUNDANCY');
      expect(thumbnail.StorageClass ?? 'STANDARD').toBe('STANDARD');
      store.destroy();
    });

    it(`lets anyone GET a public-read object, and a private one only where ACLs are ignored (server: ${process.env.S3_KIND}; s3rver ignores ACLs, others answer 403)`, async () => {
      const { name } = bucketOf(get().store);
      const type = uniqueType();
      const publicStore = get().store;
      const privateStore = new S3Store(s3StoreOptions(name, { acl: 'private' }));
      await publicStore.putFile(Buffer.from('public'), type, 1, 1, 1, 'image/png', false);
      await privateStore.putFile(Buffer.from('private'), type, 2, 1, 1, 'image/png', false);
      const open = await fetch(publicStore.getUrl(type, 1, 1, 1, 'image/png'));
      expect(open.status).toBe(200);
      expect(await open.text()).toBe('public');
      const closed = await fetch(privateStore.getUrl(type, 2, 1, 1, 'image/png'));
      await closed.arrayBuffer();
      expect(closed.status).toBe(serverEnforcesAccess() ? 403 : 200);
      privateStore.destroy();
    });

    it('sends no ACL at all with acl: null (for buckets that forbid ACLs)', async () => {
      const { name } = bucketOf(get().store);
      const store = new S3Store(s3StoreOptions(name, { acl: null }));
      const sent: Array<Record<string, unknown>> = [];
      store.client.middlewareStack.add(
        (next) => (args) => {
          sent.push(args.input as Record<string, unknown>);
          return next(args);
        },
        { step: 'initialize', name: 'recordInput' },
      );
      const type = uniqueType();
      await store.putFile(Buffer.from('x'), type, 1, 1, 1, 'image/png', false);
      expect(sent).toHaveLength(1);
      expect(sent[0]).not.toHaveProperty('ACL');
      expect((await readAll(await store.getFile(type, 1, 1, 1, 'image/png'))).toString()).toBe('x');
      store.destroy();
    });

    it('uploads a 50 MiB stream in 5 MiB parts through a multipart upload', async () => {
      const { name, client } = bucketOf(get().store);
      const store = new S3Store(s3StoreOptions(name));
      const commands: string[] = [];
      store.client.middlewareStack.add(
        (next, context) => (args) => {
          commands.push(context.commandName ?? '?');
          return next(args);
        },
        { step: 'initialize', name: 'recordCommands' },
      );
      const type = uniqueType();
      const { stream, sha256 } = generatedStream(50 * 1024 * 1024, type);
      await store.putFile(stream, type, 3, 4000, 3000, 'image/jpeg', false);
      expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(10);
      expect(commands).toContain('CreateMultipartUploadCommand');
      expect(commands).toContain('CompleteMultipartUploadCommand');
      expect(commands).not.toContain('PutObjectCommand');
      const object = await client.send(
        new GetObjectCommand({ Bucket: name, Key: `${type}/3/4000x3000.jpe` }),
      );
      expect(object.ContentLength).toBe(50 * 1024 * 1024);
      expect(object.ContentType).toBe('image/jpeg');
      expect(object.CacheControl).toBe('max-age=31536000');
      expect(await sha256Of(object.Body as Readable)).toBe(sha256);
      store.destroy();
    });

    it.each([
      ['bytes', (bytes: Buffer) => bytes],
      ['stream', (bytes: Buffer) => Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)])],
    ])(
      'puts a small file given as %s up as one PutObject, not a multipart upload',
      async (_kind, input) => {
        const { name, client } = bucketOf(get().store);
        const store = new S3Store(s3StoreOptions(name));
        const commands: string[] = [];
        store.client.middlewareStack.add(
          (next, context) => (args) => {
            commands.push(context.commandName ?? '?');
            return next(args);
          },
          { step: 'initialize', name: 'recordCommands' },
        );
        const type = uniqueType();
        const bytes = randomBytes(300 * 1024);
        await store.putFile(input(bytes), type, 5, 256, 192, 'image/jpeg', true);
        expect(commands).toEqual(['PutObjectCommand']);
        const object = await client.send(
          new GetObjectCommand({ Bucket: name, Key: `${type}/5/256x192.jpe` }),
        );
        expect(object.ContentType).toBe('image/jpeg');
        expect(object.CacheControl).toBe('max-age=31536000');
        expect(Buffer.compare(await readAll(object.Body as Readable), bytes)).toBe(0);
        store.destroy();
      },
    );

    it(`gives presigned GET URLs that fetch() can read, and a tampered one is refused where signatures are checked (server: ${process.env.S3_KIND}; s3rver does not check)`, async () => {
      const { name } = bucketOf(get().store);
      const store = new S3Store(s3StoreOptions(name, { acl: 'private' }));
      const type = uniqueType();
      const image = {
        objectType: type,
        objectId: 5n,
        width: 3,
        height: 2,
        mimetype: 'image/webp',
        original: true,
        createdAt: new Date(),
      };
      await store.store(image, Buffer.from('signed bytes'));
      const url = await store.locateSigned(image, { expiresIn: 300 });
      expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('300');
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/webp');
      expect(await response.text()).toBe('signed bytes');

      const tampered = new URL(url);
      const signature = tampered.searchParams.get('X-Amz-Signature') ?? '';
      const flipped = signature.endsWith('0') ? '1' : '0';
      tampered.searchParams.set('X-Amz-Signature', signature.slice(0, -1) + flipped);
      const refused = await fetch(tampered);
      await refused.arrayBuffer();
      expect(refused.status).toBe(serverEnforcesAccess() ? 403 : 200);
      for (const expiresIn of [0, 604_801, 1.5]) {
        await expect(
          store.getSignedUrl(type, 5, 3, 2, 'image/webp', { expiresIn }),
        ).rejects.toMatchObject({ code: 'E_INVALID_OPTION', option: 'expiresIn' });
      }
      store.destroy();
    });

    it('tells the size of a stored file, and undefined for a missing one', async () => {
      const store = get().store;
      const type = uniqueType();
      await store.putFile(randomBytes(1234), type, 1, 1, 1, 'image/png', false);
      expect(await store.statFile(type, 1, 1, 1, 'image/png')).toEqual({ size: 1234 });
      expect(await store.statFile(type, 2, 1, 1, 'image/png')).toBeUndefined();
    });

    it('names the key and keeps the SDK error as cause when a file is missing', async () => {
      const store = get().store;
      const type = uniqueType();
      const error = (await store
        .getFile(type, 1, 1, 1, 'image/png')
        .catch((e: unknown) => e)) as ImageNotFoundError;
      expect(error).toBeInstanceOf(ImageNotFoundError);
      expect(error.key).toBe(`${type}/1/1x1.png`);
      expect((error.cause as Error).name).toBe('NoSuchKey');
    });
  },
  S3_FLAGS,
);

testStore(
  'S3Store with a prefix',
  () => fixture({ prefix: ' prefixtest/ ' }),
  (get) => {
    it('puts the trimmed prefix in front of keys, and a store without it cannot open them', async () => {
      const store = get().store;
      const { name, client } = bucketOf(store);
      const type = uniqueType();
      await store.putFile(Buffer.from('p'), type, 1234, 100, 80, 'image/jpeg', false);
      expect(await listKeys(client, name, `prefixtest/${type}/`)).toEqual([
        `prefixtest/${type}/1234/100x80.jpe`,
      ]);
      expect(store.getUrl(type, 1234, 100, 80, 'image/jpeg')).toBe(
        `${s3Env().endpoint}/${name}/prefixtest/${type}/1234/100x80.jpe`,
      );
      const bare = new S3Store(s3StoreOptions(name));
      await expect(bare.getFile(type, 1234, 100, 80, 'image/jpeg')).rejects.toBeInstanceOf(
        ImageNotFoundError,
      );
      bare.destroy();
    });
  },
  S3_FLAGS,
);

testStore(
  'S3Store with publicBaseUrl',
  () => fixture({ publicBaseUrl: 'https://example.com/' }),
  (get) => {
    it('gives publicBaseUrl + "/" + key as the URL', () => {
      const type = uniqueType();
      expect(get().store.getUrl(type, 1234, 100, 80, 'image/jpeg')).toBe(
        `https://example.com/${type}/1234/100x80.jpe`,
      );
    });
  },
  S3_FLAGS,
);

testStore(
  'S3Store with a prefix, publicBaseUrl and a ready client',
  async () => {
    const made = await fixture({ prefix: 'prefixtest', publicBaseUrl: 'http://example.com' });
    const client = rawClient();
    const store = new S3Store({
      bucket: made.bucket.name,
      client,
      prefix: 'prefixtest',
      publicBaseUrl: 'http://example.com',
    });
    buckets.set(store, made.bucket);
    return {
      store,
      cleanup: async () => {
        client.destroy();
        await made.cleanup();
      },
    };
  },
  (get) => {
    it('gives publicBaseUrl/prefix/key as the URL, and leaves the given client open', async () => {
      const store = get().store;
      const type = uniqueType();
      expect(store.getUrl(type, 1234, 100, 80, 'image/jpeg')).toBe(
        `http://example.com/prefixtest/${type}/1234/100x80.jpe`,
      );
      const client = store.client;
      store.destroy();
      await store.putFile(Buffer.from('still open'), type, 1, 1, 1, 'image/png', false);
      expect(store.client).toBe(client);
    });
  },
  S3_FLAGS,
);

it('maps a missing bucket to StoreError (not ImageNotFoundError), with the SDK error as cause', async () => {
  const store = new S3Store(s3StoreOptions(`missing-${randomBytes(6).toString('hex')}`));
  const error = (await store
    .getFile('t', 1, 1, 1, 'image/png')
    .catch((e: unknown) => e)) as StoreError;
  expect(error).toBeInstanceOf(StoreError);
  expect(error.code).toBe('E_STORE');
  expect((error.cause as Error).name).toBe('NoSuchBucket');
  await expect(
    store.putFile(Buffer.from('x'), 't', 1, 1, 1, 'image/png', false),
  ).rejects.toBeInstanceOf(StoreError);
  store.destroy();
});
