/**
 * Run by upload-memory.test.ts in a child process of its own: uploads a file through
 * `uploadImage` over loopback, both ends in this process, and prints the peak RSS growth.
 * Usage: node --import tsx upload-memory.script.ts <file> <tmpDir>
 */
import { statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { postFile } from '../support/post-file.js';
import sharp from 'sharp';
import { uploadImage } from '../../src/index.js';
import type { UploadedRequest } from '../../src/http/upload.js';

const [file, tmpDir] = process.argv.slice(2) as [string, string];

const app = express();
app.post(
  '/upload',
  uploadImage({
    field: 'picture',
    tmpDir,
    maxFileSize: 128 * 1024 * 1024,
    maxPixels: 64_000_000,
    formats: ['png', 'jpeg'],
  }),
  (req: IncomingMessage, res: ServerResponse) => {
    const staged = (req as UploadedRequest).file;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ size: staged?.size, width: staged?.width }));
  },
);
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;

/** Posts `path` as the `picture` part, streaming it from disk; resolves with the answer. */
function upload(path: string): Promise<{ status: number; body: string }> {
  return postFile(path, { port, filename: 'big.png', contentType: 'application/octet-stream' });
}

// Warm up: load every module and run every code path once on a small image.
const small = `${tmpDir}/small.png`;
await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123' } })
  .png()
  .toFile(small);
const warm = await upload(small);
if (warm.status !== 200) throw new Error(`warm-up upload failed: ${warm.status} ${warm.body}`);

const baseline = process.memoryUsage().rss;
const result = await upload(file);
const peak = process.resourceUsage().maxRSS * 1024;
server.close();
process.stdout.write(
  JSON.stringify({
    status: result.status,
    body: result.body,
    bytes: statSync(file).size,
    baselineRss: baseline,
    peakRss: peak,
    growth: peak - baseline,
  }) + '\n',
);
