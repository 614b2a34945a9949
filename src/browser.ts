/**
 * `sequelize-imageattach/browser`: the browser's half of direct uploads, a dependency-free ES
 * module. `uploadDirect` posts a file to S3 with the form a `directUploads` router presigned,
 * reporting progress (XMLHttpRequest: `fetch` cannot tell how much of a body was sent).
 *
 * This file runs in browsers: it uses only what they have, and declares the little it needs of
 * the DOM itself, so the package's Node types stay free of the DOM library.
 */

/** How far an upload is. */
export interface UploadProgress {
  /** Bytes sent so far (of the whole form, so slightly more than the file). */
  loaded: number;
  /** Bytes to send in all, when known. */
  total: number;
  /** `loaded / total`, 0 to 1; 1 once S3 has accepted the file. */
  fraction: number;
}

export interface UploadDirectOptions {
  /** The form's action: `url` of the router's answer. */
  url: string;
  /** The form's fields: `fields` of the router's answer, sent before the file. */
  fields: Readonly<Record<string, string>>;
  /** Called as the upload proceeds, and with `fraction: 1` once it is done. */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborts the upload; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** S3 refused the upload (too large, expired, a policy broken) or could not be reached. */
export class DirectUploadError extends Error {
  constructor(
    message: string,
    /** The HTTP status S3 answered; 0 when it could not be reached. */
    readonly status: number,
    /** S3's error code (`EntityTooLarge`, `AccessDenied`, …), when it gave one. */
    readonly s3Code?: string,
  ) {
    super(message);
    this.name = 'DirectUploadError';
  }
}

/** What this module needs of the browser's XMLHttpRequest. */
interface Xhr {
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((event: ProgressLike) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  open(method: string, url: string): void;
  send(body: FormData): void;
  abort(): void;
}
interface ProgressLike {
  readonly loaded: number;
  readonly total: number;
  readonly lengthComputable: boolean;
}
interface DomParserLike {
  parseFromString(
    text: string,
    type: string,
  ): { querySelector(selector: string): { textContent: string | null } | null };
}
interface BrowserGlobals {
  XMLHttpRequest?: new () => Xhr;
  DOMParser?: new () => DomParserLike;
}

/**
 * Posts `file` to S3 with a presigned POST's `url` and `fields`. Resolves once S3 has stored
 * it (then call the router's `/complete` with the token); rejects with
 * {@link DirectUploadError}, or the signal's reason when aborted.
 *
 * @example
 * const ticket = await (await fetch('/uploads/direct', { method: 'POST' })).json();
 * await uploadDirect(file, { ...ticket, onProgress: (p) => (bar.value = p.fraction) });
 * await fetch('/uploads/direct/complete', {
 *   method: 'POST', headers: { 'Content-Type': 'application/json' },
 *   body: JSON.stringify({ token: ticket.token }),
 * });
 */
export function uploadDirect(file: Blob, options: UploadDirectOptions): Promise<void> {
  const { url, fields, onProgress, signal } = options;
  const XhrClass = (globalThis as BrowserGlobals).XMLHttpRequest;
  if (XhrClass === undefined) {
    return Promise.reject(new TypeError('uploadDirect needs XMLHttpRequest (a browser)'));
  }
  if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  // S3 takes the file from the last field, and ignores every field after it.
  form.append('file', file);
  return new Promise<void>((resolve, reject) => {
    const xhr = new XhrClass();
    const onAbort = () => xhr.abort();
    const settle = () => signal?.removeEventListener('abort', onAbort);
    xhr.upload.onprogress = (event) => {
      if (!event.lengthComputable || event.total === 0) return;
      // Reaching every byte is not yet success: 1 waits for S3's answer.
      const fraction = Math.min(event.loaded / event.total, 0.999);
      onProgress?.({ loaded: event.loaded, total: event.total, fraction });
    };
    xhr.onload = () => {
      settle();
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.({ loaded: file.size, total: file.size, fraction: 1 });
        resolve();
        return;
      }
      const code = s3ErrorCode(xhr.responseText);
      reject(
        new DirectUploadError(
          `The upload was refused (${xhr.status}${code === undefined ? '' : ` ${code}`}).`,
          xhr.status,
          code,
        ),
      );
    };
    xhr.onerror = () => {
      settle();
      reject(new DirectUploadError('The upload could not reach the storage.', 0));
    };
    xhr.onabort = () => {
      settle();
      reject((signal?.reason as Error | undefined) ?? new DirectUploadError('Aborted.', 0));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    xhr.open('POST', url);
    xhr.send(form);
  });
}

/** The `<Code>` of S3's XML error answer, read with the browser's own XML parser. */
function s3ErrorCode(text: string): string | undefined {
  const Parser = (globalThis as BrowserGlobals).DOMParser;
  if (Parser === undefined || text === '') return undefined;
  const code = new Parser().parseFromString(text, 'application/xml').querySelector('Error > Code');
  return code?.textContent ?? undefined;
}
