/** Multipart bodies written byte by byte, for requests no form library would build. */

export const BOUNDARY = 'hostile-boundary-7d1f';

export interface Part {
  name?: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** A multipart body written byte by byte, so names reach the parser exactly as given. */
export function multipart(parts: readonly Part[], boundary = BOUNDARY, close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let disposition = 'Content-Disposition: form-data';
    if (part.name !== undefined) disposition += `; name="${part.name}"`;
    if (part.filename !== undefined) disposition += `; filename="${part.filename}"`;
    chunks.push(
      Buffer.from(`--${boundary}\r\n${disposition}\r\n`),
      Buffer.from(part.contentType === undefined ? '' : `Content-Type: ${part.contentType}\r\n`),
      Buffer.from('\r\n'),
      part.data,
      Buffer.from('\r\n'),
    );
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
