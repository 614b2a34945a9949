/**
 * One server of bench/serving-processes.ts, in a process of its own: `ours` (the store's
 * middleware, `hotCache: false`), `hot` (with the hot cache) or `serve-static`, over the folder
 * given. It sends its port to the parent, then answers each `'stats'` message with the CPU time
 * it has used (main thread and thread pool) and the requests it has served.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import serveStatic from 'serve-static';
import { HttpExposedFileSystemStore } from '../../src/index.js';

const [kind, folder] = process.argv.slice(2) as [string, string];
const app =
  kind === 'serve-static'
    ? express().use(
        '/images',
        serveStatic(folder, { maxAge: 31536000000, immutable: true, index: false }),
      )
    : express().use(
        new HttpExposedFileSystemStore({ path: folder, hotCache: kind === 'hot' }).middleware(),
      );
const server = app.listen(0, '127.0.0.1');
let requests = 0;
server.on('request', () => {
  requests += 1;
});
server.once('listening', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.on('message', (message) => {
  if (message === 'stats') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuMicros: user + system, requests });
  } else if (message === 'stop') {
    server.close();
    server.closeAllConnections();
    process.disconnect();
  }
});
