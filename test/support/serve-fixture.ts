/**
 * A served folder with the files the serving tests need, a secret just outside it, and a
 * raw HTTP client for request lines that URL libraries would normalise.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeTempDir } from './temp-dir.js';

export const JPEG_PATH = '/images/user/234/1/1234.100x80.jpe';
/** Bytes of the served JPEG (any bytes do: the type comes from the extension). */
export const JPEG_BYTES = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(2000)]);
export const SVG_TEXT =
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>';

export interface ServeFixture {
  /** The folder the store serves. */
  root: string;
  /** What the secret files outside `root` contain; no response may carry it. */
  secret: string;
  /** The secret's absolute path. */
  secretPath: string;
  remove: () => Promise<void>;
}

/**
 * `base/secret.txt` and `base/images-evil/secret.txt` (a sibling whose name starts like the
 * root's) hold the secret; `base/images` is the root, with a JPEG, a PNG, an SVG, a dotfile,
 * an in-progress temporary file, a symlink and a symlinked folder leading out, and a symlink
 * staying inside.
 */
export async function makeServeFixture(): Promise<ServeFixture> {
  const base = await makeTempDir('serve');
  const root = join(base.path, 'images');
  const secret = `TOP-SECRET-${randomBytes(8).toString('hex')}`;
  const secretPath = join(base.path, 'secret.txt');
  const folder = join(root, 'user/234/1');
  await mkdir(folder, { recursive: true });
  await mkdir(join(base.path, 'images-evil'));
  await writeFile(secretPath, secret);
  await writeFile(join(base.path, 'images-evil/secret.txt'), secret);
  await writeFile(join(folder, '1234.100x80.jpe'), JPEG_BYTES);
  await writeFile(join(folder, '1234.10x8.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really'));
  await writeFile(join(folder, '1234.10x10.svg'), SVG_TEXT);
  await writeFile(join(root, '.hidden'), secret);
  await writeFile(join(folder, `.1234.100x80.jpe.${randomBytes(8).toString('hex')}.tmp`), secret);
  await writeFile(join(folder, '.1234.50x40.jpe.0123456789abcdef.tmp'), secret);
  await symlink(secretPath, join(folder, '1234.1x1.jpe'));
  await symlink(base.path, join(root, 'linked'));
  await symlink(join(folder, '1234.100x80.jpe'), join(root, 'user/alias.jpe'));
  return { root, secret, secretPath, remove: base.remove };
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/** Sends `GET {path}` exactly as written, on a server started for this one request. */
export async function rawRequest(
  listener: RequestListener,
  path: string,
  method = 'GET',
): Promise<RawResponse> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const raw = await new Promise<string>((resolve, reject) => {
      // write, not end: the server aborts a request whose client half-closes the socket.
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`${method} ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      });
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.on('error', reject);
    });
    const split = raw.indexOf('\r\n\r\n');
    const head = split === -1 ? raw : raw.slice(0, split);
    return {
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
      head,
      body: split === -1 ? '' : raw.slice(split + 4),
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
