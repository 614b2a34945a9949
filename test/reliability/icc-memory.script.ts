/**
 * Run by icc-memory.test.ts in a child process of its own: uploads every file given at once
 * through `uploadImage` over loopback, both ends in this process, and prints the answers, this
 * process's peak RSS growth and the decoder children's peak RSS.
 * Usage: node --import tsx icc-memory.script.ts <tmpDir> <file>...
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { postFile } from '../support/post-file.js';
import sharp from 'sharp';
import { uploadImage } from '../../src/index.js';
import { decoderPids } from '../../src/images/decoder-pool.js';

const [tmpDir, ...files] = process.argv.slice(2) as [string, ...string[]];

const app = express();
app.post('/upload', uploadImage({ field: 'picture', tmpDir }), (_req, res: ServerResponse) => {
  res.setHeader('Content-Type', 'application/json');
  res.end('{}');
});
app.use((_err: unknown, _req: IncomingMessage, res: ServerResponse, _next: unknown) => {
  res.statusCode = 500;
  res.end('{}');
});
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;

/** Posts `path` as the `picture` part, streaming it from disk; resolves with the answer. */
function upload(path: string): Promise<{ status: number; body: string }> {
  return postFile(path, { port, filename: 'x.jpg', contentType: 'image/jpeg' });
}

/** Peak RSS of a process, from /proc (the decoder children are not ours to ask otherwise). */
function peakRss(pid: number): number {
  const line = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(line?.[1] ?? 0) * 1024;
}

// Warm up: load every module, start the decoders, and run every code path once.
const small = `${tmpDir}/small.jpg`;
await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123' } })
  .jpeg()
  .toFile(small);
await Promise.all([upload(small), upload(small)]);

const baseline = process.memoryUsage().rss;
const answers = await Promise.all(files.map(upload));
const peak = process.resourceUsage().maxRSS * 1024;
const children = decoderPids().map(peakRss);
server.close();
process.stdout.write(
  JSON.stringify({
    statuses: answers.map((answer) => answer.status),
    codes: answers.map(
      (answer) => (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code ?? null,
    ),
    baselineRss: baseline,
    peakRss: peak,
    growth: peak - baseline,
    childrenPeakRss: children,
  }) + '\n',
);
