/**
 * Posts a file on disk as one multipart part, streamed from disk with a known length, as a
 * browser does: for the memory tests, whose server must never see the file in one piece.
 */
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';

export interface PostFileOptions {
  port: number;
  path?: string;
  field?: string;
  filename?: string;
  contentType?: string;
}

const BOUNDARY = 'post-file-boundary';

/** Resolves with the answer's status and body. */
export function postFile(
  file: string,
  options: PostFileOptions,
): Promise<{ status: number; body: string }> {
  const {
    port,
    path = '/upload',
    field = 'picture',
    filename = 'upload.bin',
    contentType = 'application/octet-stream',
  } = options;
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        port,
        host: '127.0.0.1',
        method: 'POST',
        path,
        headers: {
          'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
          'Content-Length': head.length + statSync(file).size + tail.length,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.write(head);
    const source = createReadStream(file);
    source.on('error', reject);
    source.on('end', () => req.end(tail));
    source.pipe(req, { end: false });
  });
}
