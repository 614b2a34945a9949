/**
 * `imageStorage()`: a multer storage engine that stages each file part to a temporary file and
 * accepts it only once its bytes have proved it an allowed, intact image within the limits.
 */
import type { IncomingMessage } from 'node:http';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { UploadMalformedError } from '../errors.js';
import type { ImageFormat } from '../images/magic.js';
import { checkImageStream } from './check-stream.js';
import { requestFiles, removeFile } from './cleanup.js';
import { decodeDeferred, deferDecode } from './deferred-decode.js';
import { resolveImageOptions, type ImageStorageOptions } from './options.js';

/** What multer puts on `req.file` for a part this engine accepted. */
export interface StagedImageFile {
  fieldname: string;
  /** The client's file name: informative only, never trusted. */
  originalname: string;
  encoding: string;
  /** The type the bytes show (never the client's `Content-Type`). */
  mimetype: string;
  format: ImageFormat;
  size: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  /** Width as displayed (after the EXIF orientation). */
  width: number;
  /** Height as displayed (after the EXIF orientation). */
  height: number;
  /** The EXIF orientation, 1 to 8. */
  orientation: number;
  /** Frames of an animation; 1 for a still image. */
  pages: number;
  /** The temporary file; removed when the response closes. */
  path: string;
  /** The temporary file's folder and name, as multer's disk storage has them. */
  destination: string;
  filename: string;
}

/** The part of multer's file object an engine receives. */
export interface IncomingFilePart {
  fieldname: string;
  stream: Readable;
}

/** multer's `StorageEngine` contract, as implemented by {@link imageStorage}. */
export interface ImageStorageEngine {
  _handleFile(
    req: IncomingMessage,
    file: IncomingFilePart,
    callback: (error?: Error | null, info?: Partial<StagedImageFile>) => void,
  ): void;
  _removeFile(
    req: IncomingMessage,
    file: { path?: string },
    callback: (error: Error | null) => void,
  ): void;
}

/**
 * A multer storage engine for images. Each part is streamed to a temporary file in `tmpDir`
 * while it is counted, hashed and sniffed; its type comes from its bytes; then its header is
 * read and (with `verify`) the whole image decoded, through the processing queue. Refused
 * parts fail the request with the upload errors (`E_…`, with `status`). Under Express the
 * temporary files are removed when the response closes; elsewhere remove `req.file.path`.
 *
 * @example
 * const upload = multer({ storage: imageStorage({ maxPixels: 20e6 }), limits: { files: 1 } });
 * app.post('/avatar', upload.single('avatar'), (req, res) => res.json(req.file));
 */
export function imageStorage(options: ImageStorageOptions = {}): ImageStorageEngine {
  const resolved = resolveImageOptions(options);
  return {
    _handleFile(req, file, callback) {
      const field = file.fieldname;
      const files = requestFiles(req);
      if (files?.closed) {
        file.stream.resume();
        callback(new UploadMalformedError('The request was closed.', { field }));
        return;
      }
      let truncatedByParser = false;
      file.stream.once('limit', () => (truncatedByParser = true));
      checkImageStream(file.stream, resolved, {
        field,
        onPath: (path) => files?.add(path),
        // multer's own fileSize limit cut the part: it fails the request; skip the decode.
        cutShort: () => truncatedByParser,
        // attachImage next in the route decodes the image once, with its thumbnails.
        deferDecode: decodeDeferred(req)
          ? (path, decode) => deferDecode(req, path, decode)
          : undefined,
      }).then(
        ({ staged, info }) => {
          if (files?.closed) {
            // The client left while the file was checked; its response will never be sent.
            removeFile(staged.path).catch(() => undefined);
            callback(new UploadMalformedError('The request was closed.', { field }));
            return;
          }
          callback(null, {
            mimetype: info.mimetype,
            format: info.format,
            size: staged.size,
            sha256: staged.sha256,
            width: info.width,
            height: info.height,
            orientation: info.orientation,
            pages: info.pages,
            path: staged.path,
            destination: resolved.tmpDir,
            filename: basename(staged.path),
          });
        },
        (error: unknown) => callback(error as Error),
      );
    },

    _removeFile(_req, file, callback) {
      if (typeof file.path !== 'string') {
        callback(null);
        return;
      }
      removeFile(file.path).then(
        () => callback(null),
        (error: unknown) => callback(error as Error),
      );
    },
  };
}
