import { once } from 'node:events';
import {
  createConnection,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/index.js';
import { S3Store } from '../../src/s3.js';
import { createTestBucket, s3Env, s3StoreOptions, type TestBucket } from '../support/s3.js';
import { readAll, uniqueType } from './conformance.js';

/**
 * A TCP proxy in front of the S3 server that resets the first `drops` connections it
 * accepts, as a load balancer restarting under the client would, then forwards the rest.
 */
class DroppingProxy {
  drops = 0;
  accepted = 0;
  dropped = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(target: URL) {
    this.#server = createServer((client) => {
      this.accepted += 1;
      this.#sockets.add(client);
      client.once('close', () => this.#sockets.delete(client));
      if (this.dropped < this.drops) {
        this.dropped += 1;
        client.resetAndDestroy();
        return;
      }
      const upstream = createConnection(Number(target.port), target.hostname);
      this.#sockets.add(upstream);
      upstream.once('close', () => this.#sockets.delete(upstream));
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Closes every open connection, as a restarting server does; kept-alive ones included. */
  cutAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cutAll();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

describe('S3Store retries', () => {
  let bucket: TestBucket;
  let proxy: DroppingProxy;
  let endpoint: string;

  beforeAll(async () => {
    bucket = await createTestBucket();
    proxy = new DroppingProxy(new URL(s3Env().endpoint));
    endpoint = await proxy.listen();
  });
  afterAll(async () => {
    await proxy.close();
    await bucket.remove();
  });

  const storeThroughProxy = (maxAttempts: number) =>
    new S3Store(s3StoreOptions(bucket.name, { endpoint, maxAttempts }));

  it('retries requests whose connection was reset, up to maxAttempts, and succeeds', async () => {
    const store = storeThroughProxy(4);
    const type = uniqueType();
    Object.assign(proxy, { drops: 3, dropped: 0, accepted: 0 });
    await store.putFile(Buffer.from('third time lucky'), type, 1, 1, 1, 'image/png', false);
    expect(proxy.dropped).toBe(3);
    proxy.cutAll();
    Object.assign(proxy, { drops: 2, dropped: 0 });
    const body = await readAll(await store.getFile(type, 1, 1, 1, 'image/png'));
    expect(body.toString()).toBe('third time lucky');
    expect(proxy.dropped).toBe(2);
    store.destroy();
  });

  it('gives up after maxAttempts with a StoreError carrying the network error', async () => {
    const store = storeThroughProxy(2);
    const type = uniqueType();
    Object.assign(proxy, { drops: 5, dropped: 0, accepted: 0 });
    const error = (await store
      .putFile(Buffer.from('never'), type, 1, 1, 1, 'image/png', false)
      .catch((e: unknown) => e)) as StoreError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.code).toBe('E_STORE');
    expect(error.cause).toBeInstanceOf(Error);
    expect(proxy.accepted).toBe(2);
    Object.assign(proxy, { drops: 0 });
    expect(await store.statFile(type, 1, 1, 1, 'image/png')).toBeUndefined();
    store.destroy();
  });
});
