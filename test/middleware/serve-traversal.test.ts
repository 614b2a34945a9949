/**
 * No request line, however encoded, reaches a byte outside the served folder. The requests
 * are sent raw over a socket, because URL libraries would normalise `..` and backslashes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpExposedFileSystemStore } from '../../src/index.js';
import { FRAMEWORKS, type Handler, type TestApp } from '../support/frameworks.js';
import {
  JPEG_PATH,
  makeServeFixture,
  rawRequest,
  type ServeFixture,
} from '../support/serve-fixture.js';

const fallThrough: Handler = (_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('fell through');
};

let fixture: ServeFixture;
beforeAll(async () => {
  fixture = await makeServeFixture();
});
afterAll(async () => {
  await fixture.remove();
});

/** Request paths that try to leave the folder (or to reach what it must not serve). */
const ATTACKS = (): string[] => [
  // dot segments, plain and encoded
  '/images/../secret.txt',
  '/images/user/../../secret.txt',
  '/images/./../secret.txt',
  '/images/%2e%2e/secret.txt',
  '/images/%2E%2E/secret.txt',
  '/images/.%2e/secret.txt',
  '/images/%2e%2e%2fsecret.txt',
  '/images/..%2fsecret.txt',
  '/images/user%2f..%2f..%2fsecret.txt',
  '/images/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/images/../images-evil/secret.txt',
  '/images/%2e%2e/images-evil/secret.txt',
  // double encoding
  '/images/%252e%252e/secret.txt',
  '/images/%252e%252e%252fsecret.txt',
  // backslashes
  '/images/..\\secret.txt',
  '/images/..%5csecret.txt',
  '/images/%5c..%5csecret.txt',
  '/images/user%5c..%5c..%5csecret.txt',
  // NUL
  '/images/secret.txt%00.jpe',
  '/images/%00../secret.txt',
  '/images/user/234/1/1234.100x80.jpe%00',
  // overlong UTF-8 and invalid encodings
  '/images/%c0%ae%c0%ae/secret.txt',
  '/images/%c0%ae%c0%ae%c0%afsecret.txt',
  '/images/%e0%80%ae%e0%80%ae/secret.txt',
  '/images/%ff/secret.txt',
  '/images/%2/secret.txt',
  // absolute paths
  '/images//etc/passwd',
  '/images/%2fetc%2fpasswd',
  `/images/${encodeURIComponent(fixture.secretPath)}`,
  `/images/${fixture.secretPath}`,
  // symlinks leading out: a file and a folder
  '/images/user/234/1/1234.1x1.jpe',
  '/images/linked/secret.txt',
  '/images/linked/images-evil/secret.txt',
  '/images/linked/images/.hidden',
  // dotfiles
  '/images/.hidden',
  '/images/%2ehidden',
  '/images/user/234/1/.1234.50x40.jpe.0123456789abcdef.tmp',
  // after the file name
  `${JPEG_PATH}/../../../../../secret.txt`,
  `${JPEG_PATH}/..`,
];

describe.each(FRAMEWORKS)('traversal under $name', (framework) => {
  const app = (): TestApp =>
    framework
      .create()
      .use(new HttpExposedFileSystemStore({ path: fixture.root }).middleware())
      .use(fallThrough);

  it('serves the legitimate file over the same raw client', async () => {
    const response = await rawRequest(app().listener, JPEG_PATH);
    expect(response.status).toBe(200);
    expect(response.head).toMatch(/content-type: image\/jpeg/i);
  });

  it('never gives a byte of a file outside the folder, nor a dotfile', async () => {
    const results: string[] = [];
    for (const path of ATTACKS()) {
      for (const method of ['GET', 'HEAD']) {
        const response = await rawRequest(app().listener, path, method);
        results.push(`${method} ${path} -> ${response.status}`);
        expect(response.head + response.body, `${method} ${path}`).not.toContain(fixture.secret);
        expect([400, 403, 404], `${method} ${path}`).toContain(response.status);
        expect(response.body, `${method} ${path}`).not.toContain('fell through');
      }
    }
    expect(results).toHaveLength(ATTACKS().length * 2);
  });

  it('passes request lines outside the prefix to next(), serving nothing', async () => {
    for (const path of ['/secret.txt', '/../secret.txt', '/images/../..', '/%2e%2e/secret.txt']) {
      const response = await rawRequest(app().listener, path);
      expect(response.head + response.body, path).not.toContain(fixture.secret);
    }
  });
});
