/**
 * Header smuggling against the serving middleware, with raw requests: a second request hidden
 * in the first, CRLF in the target, proxy-style rewrite headers, absolute-form targets. None
 * returns a byte from outside the store's folder or a header the client wrote. The path
 * traversal requests themselves are in test/middleware/serve-traversal.test.ts.
 */
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpExposedFileSystemStore } from '../../src/index.js';
import { FRAMEWORKS } from '../support/frameworks.js';
import { JPEG_PATH, makeServeFixture, type ServeFixture } from '../support/serve-fixture.js';

let fixture: ServeFixture;
beforeAll(async () => {
  fixture = await makeServeFixture();
});
afterAll(async () => {
  await fixture.remove();
});

/** Sends `raw` as is and returns everything the server wrote until it closed or went quiet. */
async function send(listener: Parameters<typeof createServer>[1], raw: string): Promise<string> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(port, '127.0.0.1', () => socket.write(raw));
      let quiet: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(quiet);
        socket.destroy();
        resolve(Buffer.concat(chunks).toString('latin1'));
      };
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        clearTimeout(quiet);
        // Keep-alive connections stay open: stop once the server has said nothing for a while.
        quiet = setTimeout(done, 1000);
      });
      socket.on('end', done);
      socket.on('error', (error) => (chunks.length > 0 ? done() : reject(error)));
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Each: what it tries, the raw request, and what the answer must start with, if anything. */
const SMUGGLING: [string, string, RegExp?][] = [
  [
    'a second request after Content-Length (CL.TE)',
    'POST /images/x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '0\r\n\r\nGET /images/../secret.txt HTTP/1.1\r\nHost: a\r\n\r\n',
  ],
  [
    'a second request after chunked (TE.CL)',
    'POST /images/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n' +
      '8\r\nSMUGGLED\r\n0\r\n\r\nGET /images/%2e%2e/secret.txt HTTP/1.1\r\nHost: a\r\n\r\n',
  ],
  [
    'an obfuscated Transfer-Encoding',
    'POST /images/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n' +
      '0\r\n\r\nGET /images/../secret.txt HTTP/1.1\r\nHost: a\r\n\r\n',
  ],
  [
    'a pipelined traversal after a good request',
    `GET ${JPEG_PATH} HTTP/1.1\r\nHost: a\r\n\r\nGET /images/..%2fsecret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    /^HTTP\/1\.1 200 [^]*HTTP\/1\.1 40\d /,
  ],
  [
    'encoded CRLF in the target',
    'GET /images/x%0d%0aSet-Cookie:%20smuggled=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ],
  [
    'a raw CR in the target',
    'GET /images/x\rSet-Cookie: smuggled=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ],
  [
    'an absolute-form target',
    'GET http://a/images/../secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ],
  [
    'an absolute-form target elsewhere',
    'GET file:///images/../secret.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ],
  [
    'two Host headers',
    'GET /images/../secret.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n',
  ],
  [
    'an X-Original-URL rewrite',
    `GET ${JPEG_PATH}x HTTP/1.1\r\nHost: a\r\nX-Original-URL: /images/../secret.txt\r\nX-Rewrite-URL: /secret.txt\r\nConnection: close\r\n\r\n`,
  ],
  [
    'an X-Forwarded-Prefix',
    'GET /images/secret.txt HTTP/1.1\r\nHost: a\r\nX-Forwarded-Prefix: /..\r\nConnection: close\r\n\r\n',
  ],
  [
    'a NUL in a header',
    `GET ${JPEG_PATH} HTTP/1.1\r\nHost: a\r\nRange: bytes=0-\u0000/../../secret.txt\r\nConnection: close\r\n\r\n`,
  ],
  [
    'a Range reaching past the file',
    `GET ${JPEG_PATH} HTTP/1.1\r\nHost: a\r\nRange: bytes=0-99999999\r\nConnection: close\r\n\r\n`,
  ],
];

describe.each(FRAMEWORKS)('header smuggling under $name', (framework) => {
  const app = () =>
    framework
      .create()
      .use(new HttpExposedFileSystemStore({ path: fixture.root }).middleware())
      .use((_req, res) => {
        res.statusCode = 404;
        res.end('not here');
      }).listener;

  it.each(SMUGGLING)('%s: nothing from outside, no injected header', async (_name, raw, starts) => {
    const answer = await send(app(), raw);
    if (starts !== undefined) expect(answer).toMatch(starts);
    expect(answer).not.toContain(fixture.secret);
    expect(answer).not.toMatch(/^set-cookie:\s*smuggled/im);
    expect(answer).not.toContain('SMUGGLED');
    // Every answer is a well-formed HTTP response, or the connection was refused outright.
    if (answer !== '') expect(answer).toMatch(/^HTTP\/1\.1 \d{3} /);
  });
});
