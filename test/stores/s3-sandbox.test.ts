import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageNotFoundError, InvalidOptionError, UrlUnavailableError } from '../../src/index.js';
import { S3SandboxStore, S3Store, SANDBOX_DELETED_CONTENT_TYPE } from '../../src/s3.js';
import {
  createTestBucket,
  listKeys,
  s3Env,
  s3StoreOptions,
  serverEnforcesAccess,
  type TestBucket,
} from '../support/s3.js';
import { readAll, testStore, uniqueType } from './conformance.js';

interface Sandbox {
  sandbox: S3SandboxStore;
  under: TestBucket;
  over: TestBucket;
  cleanup: () => Promise<void>;
}

/** Two buckets and a sandbox over them, with the shared options given once at the top level. */
async function makeSandbox(underPrefix = 'under', overPrefix = 'over'): Promise<Sandbox> {
  const [under, over] = await Promise.all([
    createTestBucket('ia-under'),
    createTestBucket('ia-over'),
  ]);
  const { bucket: _bucket, ...shared } = s3StoreOptions('unused');
  const sandbox = new S3SandboxStore({
    ...shared,
    listPageSize: 2,
    underlying: { bucket: under.name, prefix: underPrefix },
    overriding: { bucket: over.name, prefix: overPrefix },
  });
  await sandbox.ready();
  return {
    sandbox,
    under,
    over,
    cleanup: async () => {
      sandbox.destroy();
      await Promise.all([under.remove(), over.remove()]);
    },
  };
}

testStore(
  'S3SandboxStore',
  async () => {
    const { sandbox, cleanup } = await makeSandbox();
    return { store: sandbox, cleanup };
  },
  undefined,
  { stat: true, httpUrls: true },
);

const image = (objectType: string, objectId: bigint | number) => ({
  objectType,
  objectId,
  width: 405,
  height: 640,
  mimetype: 'image/jpeg',
  original: true,
  createdAt: new Date(Date.UTC(2017, 9, 10)),
});

// The four behaviours of the original's test_s3_sandbox_store, with its two prefix pairs
// (the unprefixed one with negative ids).
describe.each([
  ['under', 'over', 1234],
  ['', '', -1234],
])('S3SandboxStore with prefixes %j and %j', (underPrefix, overPrefix, id) => {
  let s: Sandbox;
  let underlying: S3Store;
  const key = (prefix: string, type: string) =>
    `${prefix === '' ? '' : `${prefix}/`}${type}/${id}/405x640.jpe`;
  const endpoint = s3Env().endpoint;

  beforeAll(async () => {
    s = await makeSandbox(underPrefix, overPrefix);
    underlying = new S3Store(s3StoreOptions(s.under.name, { prefix: underPrefix }));
  });
  afterAll(async () => {
    underlying.destroy();
    await s.cleanup();
  });

  it('reads and locates an image of the underlying bucket through the sandbox', async () => {
    const type = uniqueType();
    await underlying.store(image(type, id), Buffer.from('production'));
    expect((await readAll(await s.sandbox.open(image(type, id)))).toString()).toBe('production');
    expect(s.sandbox.locate(image(type, id))).toBe(
      `${endpoint}/${s.under.name}/${key(underPrefix, type)}?_ts=20171010000000000000`,
    );
    expect(await s.sandbox.statFile(type, id, 405, 640, 'image/jpeg')).toEqual({ size: 10 });
  });

  it('stores an image in the overriding bucket only, and locates it there', async () => {
    const type = uniqueType();
    await s.sandbox.store(image(type, id), Buffer.from('sandboxed'));
    expect((await readAll(await s.sandbox.open(image(type, id)))).toString()).toBe('sandboxed');
    await expect(underlying.open(image(type, id))).rejects.toBeInstanceOf(ImageNotFoundError);
    expect(await listKeys(s.over.client, s.over.name, key(overPrefix, type))).toEqual([
      key(overPrefix, type),
    ]);
    expect(await listKeys(s.under.client, s.under.name)).not.toContain(key(underPrefix, type));
    expect(s.sandbox.getUrl(type, id, 405, 640, 'image/jpeg')).toBe(
      `${endpoint}/${s.over.name}/${key(overPrefix, type)}`,
    );
  });

  it(`deletes through a private tombstone, leaving the underlying image untouched (tombstone GET: ${serverEnforcesAccess() ? '403' : '200, s3rver ignores ACLs'})`, async () => {
    const type = uniqueType();
    await underlying.store(image(type, id), Buffer.from('production'));
    await s.sandbox.delete(image(type, id));
    await expect(s.sandbox.open(image(type, id))).rejects.toBeInstanceOf(ImageNotFoundError);
    expect(await s.sandbox.statFile(type, id, 405, 640, 'image/jpeg')).toBeUndefined();
    expect((await readAll(await underlying.open(image(type, id)))).toString()).toBe('production');
    const url = s.sandbox.getUrl(type, id, 405, 640, 'image/jpeg');
    expect(url).toBe(`${endpoint}/${s.over.name}/${key(overPrefix, type)}`);
    const tombstone = await s.over.client.send(
      new HeadObjectCommand({ Bucket: s.over.name, Key: key(overPrefix, type) }),
    );
    expect(tombstone.ContentType).toBe(SANDBOX_DELETED_CONTENT_TYPE);
    expect(tombstone.ContentLength).toBe(0);
    const anonymous = await fetch(url);
    await anonymous.arrayBuffer();
    expect(anonymous.status).toBe(serverEnforcesAccess() ? 403 : 200);
    // Storing again replaces the tombstone.
    await s.sandbox.store(image(type, id), Buffer.from('again'));
    expect((await readAll(await s.sandbox.open(image(type, id)))).toString()).toBe('again');
  });

  it('keeps each side inside its prefix', async () => {
    const type = uniqueType();
    await s.sandbox.store(image(type, id), Buffer.from('x'));
    await underlying.store(image(type, id), Buffer.from('y'));
    expect(await listKeys(s.over.client, s.over.name)).toContain(key(overPrefix, type));
    expect(await listKeys(s.under.client, s.under.name)).toContain(key(underPrefix, type));
    if (overPrefix !== '') {
      const unprefixed = new S3Store(s3StoreOptions(s.over.name));
      await expect(unprefixed.open(image(type, id))).rejects.toBeInstanceOf(ImageNotFoundError);
      unprefixed.destroy();
    }
  });
});

describe('S3SandboxStore URLs: no request per call, and how fresh they are', () => {
  let s: Sandbox;
  beforeAll(async () => {
    s = await makeSandbox();
  });
  afterAll(() => s.cleanup());

  const fresh = () =>
    new S3SandboxStore({
      ...s3StoreOptions('unused'),
      listPageSize: 2,
      underlying: { bucket: s.under.name, prefix: 'under' },
      overriding: { bucket: s.over.name, prefix: 'over' },
    });

  it('refuses getUrl until ready() has loaded the listing, then answers without requests', async () => {
    const type = uniqueType();
    for (const id of [1, 2, 3, 4, 5])
      await s.sandbox.putFile(Buffer.from('x'), type, id, 1, 1, 'image/png', false);
    const other = fresh();
    expect(() => other.getUrl(type, 1, 1, 1, 'image/png')).toThrow(UrlUnavailableError);
    await other.ready(); // five keys in pages of two
    let requests = 0;
    for (const store of [other.overriding, other.underlying]) {
      store.client.middlewareStack.add((next) => (args) => ((requests += 1), next(args)), {
        step: 'initialize',
      });
    }
    for (const id of [1, 2, 3, 4, 5]) {
      expect(other.getUrl(type, id, 1, 1, 'image/png')).toContain(`/${s.over.name}/over/`);
      expect(other.getUrl(type, id, 2, 2, 'image/png')).toContain(`/${s.under.name}/under/`);
    }
    expect(requests).toBe(0);
    other.destroy();
  });

  it("sees its own writes at once, other processes' writes after refresh()", async () => {
    const type = uniqueType();
    const other = fresh();
    await other.ready();
    await s.sandbox.putFile(Buffer.from('x'), type, 1, 1, 1, 'image/png', false);
    expect(other.getUrl(type, 1, 1, 1, 'image/png')).toContain(`/${s.under.name}/`);
    await other.refresh();
    expect(other.getUrl(type, 1, 1, 1, 'image/png')).toContain(`/${s.over.name}/`);
    await other.putFile(Buffer.from('x'), type, 2, 1, 1, 'image/png', false);
    expect(other.getUrl(type, 2, 1, 1, 'image/png')).toContain(`/${s.over.name}/`);
    other.destroy();
  });

  it('loads the listing in its middleware before the rest of the request runs', async () => {
    const other = fresh();
    const middleware = other.middleware();
    const server = createServer((req, res) =>
      middleware(req, res, (error) =>
        res.end(error ? 'error' : other.getUrl('page', 1, 1, 1, 'image/png')),
      ),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(body).toBe(`${s3Env().endpoint}/${s.under.name}/under/page/1/1x1.png`);
    server.close();
    await once(server, 'close');
    other.destroy();
  });
});

describe('S3SandboxStore options', () => {
  it('applies top-level options to both sides, and a side may override them', () => {
    const store = new S3SandboxStore({
      maxAge: 60,
      region: 'eu-west-1',
      underlying: { bucket: 'prod-images' },
      overriding: { bucket: 'dev-images', prefix: 'me', maxAge: 10 },
    });
    expect(store.underlying.maxAge).toBe(60);
    expect(store.overriding.maxAge).toBe(10);
    expect(store.overriding.prefix).toBe('me');
    expect(store.underlying.bucket).toBe('prod-images');
  });

  it.each([
    ['underlying', { overriding: { bucket: 'b-1' } }],
    ['overriding.bucket', { underlying: { bucket: 'b-1' }, overriding: {} }],
    [
      'overriding.maxAge',
      { underlying: { bucket: 'b-1' }, overriding: { bucket: 'b-2', maxAge: -1 } },
    ],
    ['maxAge', { maxAge: -1, underlying: { bucket: 'b-1' }, overriding: { bucket: 'b-2' } }],
    [
      'listPageSize',
      { listPageSize: 0, underlying: { bucket: 'b-1' }, overriding: { bucket: 'b-2' } },
    ],
  ])('names %s when it is invalid', (option, options) => {
    let error: unknown;
    try {
      new S3SandboxStore(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
  });
});
