/**
 * A multipart/form-data client on node:http with a hand-built body: one file part, sent from
 * memory or streamed from disk, so that the client costs the same whatever the server does.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request, type Agent } from 'node:http';

const BOUNDARY = 'bench-imageattach-boundary';

export interface PostResult {
  status: number;
  body: string;
}

export interface FilePart {
  field: string;
  filename: string;
  /** The bytes, or the path of a file streamed from disk. */
  content: Buffer | string;
}

/** Posts `part` as the only part of a form to `url`; resolves with the answer. */
export async function postFile(url: string, part: FilePart, agent?: Agent): Promise<PostResult> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.field}"; ` +
      `filename="${part.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const size =
    typeof part.content === 'string' ? (await stat(part.content)).size : part.content.length;
  return await new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
          'Content-Length': head.length + size + tail.length,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(head);
    if (typeof part.content !== 'string') {
      req.write(part.content);
      req.end(tail);
      return;
    }
    const source = createReadStream(part.content);
    source.on('error', reject);
    source.on('end', () => req.end(tail));
    source.pipe(req, { end: false });
  });
}

/** Runs `count` tasks, `concurrency` at a time; rejects with the first failure. */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** What {@link postThrottled} measured: the answer, and milliseconds from the last byte to it. */
export interface ThrottledResult extends PostResult {
  afterLastByte: number;
}

const THROTTLE_CHUNK = 64 * 1024;

/**
 * Posts `content` as the only part of a form at no more than `bytesPerSecond` (a client on a
 * slow link), and times the server from the moment the last byte was handed to the kernel to
 * the end of the answer.
 */
export function postThrottled(
  url: string,
  part: { field: string; filename: string; content: Buffer },
  bytesPerSecond: number,
  agent?: Agent,
): Promise<ThrottledResult> {
  const body = Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.field}"; ` +
        `filename="${part.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    part.content,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
  return new Promise((resolve, reject) => {
    let lastByte: bigint | undefined;
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
          'Content-Length': body.length,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const end = process.hrtime.bigint();
          const afterLastByte = Number(end - (lastByte ?? end)) / 1e6;
          resolve({ status: res.statusCode ?? 0, body: text, afterLastByte });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const start = process.hrtime.bigint();
    let sent = 0;
    const sendNext = () => {
      const chunk = body.subarray(sent, sent + THROTTLE_CHUNK);
      sent += chunk.length;
      if (sent >= body.length) {
        req.end(chunk, () => (lastByte = process.hrtime.bigint()));
        return;
      }
      req.write(chunk);
      // The next chunk leaves when the rate allows it, measured from the start (no drift).
      const due = Number(start) / 1e6 + (sent / bytesPerSecond) * 1000;
      setTimeout(sendNext, Math.max(0, due - Number(process.hrtime.bigint()) / 1e6));
    };
    sendNext();
  });
}
