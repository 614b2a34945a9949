/**
 * s3rver on 127.0.0.1, a random port and a temporary folder, with writes made atomic: what the
 * test suite's global setup starts, and what the benchmarks start when no S3_ENDPOINT is set.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeTempDir } from './temp-dir.js';

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
}

interface S3rverObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: unknown;
}

interface S3rverStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
}

interface S3rverInstance {
  store: S3rverStore;
  context: { store: S3rverStore };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

// s3rver is CommonJS and ships no types; these are the parts of it the suite uses.
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rverInstance;
const FilesystemStore = require('s3rver/lib/stores/filesystem.js') as new (
  directory: string,
) => S3rverStore;

/**
 * s3rver 3.7.1 writes an object in place and answers before the write has finished, so two
 * PUTs of one key interleave their bytes and a GET right after a PUT can read a partial file.
 * S3 (and RGW) replace an object atomically once it is complete; so does this store: it writes
 * a temporary file (which s3rver's listing skips) and renames it into place.
 */
class AtomicFilesystemStore extends FilesystemStore {
  async putObject(object: S3rverObject): Promise<{ size: number; md5: string }> {
    const target = this.getResourcePath(object.bucket, object.key, 'object');
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await mkdir(dirname(target), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const content = Buffer.isBuffer(object.content)
      ? Readable.from([object.content])
      : object.content;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(content, measure, createWriteStream(temp));
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    const digest = md5.digest('hex');
    await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  }
}

export interface LocalS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Stops the server and removes its folder. */
  close: () => Promise<void>;
}

/** Starts s3rver in this process; s3rver accepts any bucket and ignores signatures. */
export async function startS3rver(): Promise<LocalS3> {
  const dir = await makeTempDir('imageattach-s3rver');
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir.path, silent: true });
  server.store = server.context.store = new AtomicFilesystemStore(dir.path);
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    close: async () => {
      await server.close();
      await dir.remove();
    },
  };
}
