/**
 * What a staged upload is, and whether it may be kept: type from the magic number, then the
 * allow-list, the SVG safety check, our own read of the container (canvas, frames, metadata
 * sizes), sharp's header read, the pixel, frame and total-work limits, and finally a streaming
 * decode in a child process, stopped at its time limit, that finds truncated and corrupt images.
 */
import { readFile } from 'node:fs/promises';
import {
  ImageDecodeTimeoutError,
  ImageMetadataTooLargeError,
  ImageTooManyFramesError,
  ImageTooManyPixelsError,
  ImageTooMuchWorkError,
  ImageTruncatedError,
  ImageTypeNotAllowedError,
  ImageUndecodableError,
  NotAnImageError,
  UnsafeSvgError,
  UploadFileTooLargeError,
} from '../errors.js';
import { decoderPoolFor, type ThumbnailJob } from '../images/decoder-pool.js';
import { readImageHeaders, type ImageHeaders } from '../images/headers.js';
import { sniffImageType, type ImageFormat, type SniffedType } from '../images/magic.js';
import { readImageInfo, type ImageInfo } from '../images/metadata.js';
import { findSvgProblem } from '../images/svg-safety.js';
import type { RenderedThumbnail } from '../images/thumbnail.js';
import type { ResolvedImageOptions } from './options.js';
import type { StagedFile } from './stage.js';
import { sharpNamesOf } from '../images/formats.js';
import { inspectStagedPdf } from './inspect-pdf.js';

/** What an accepted upload is: {@link ImageInfo} with the allow-list's name of the format. */
export interface InspectedImage extends Omit<ImageInfo, 'format'> {
  format: ImageFormat;
}

/** Messages of libjpeg, libpng, libheif, giflib and libvips that mean "the data stops early". */
const TRUNCATION =
  /premature end|unexpected end|end of (?:file|data|stream)|truncat|bad seek|out of data|not enough data/i;

/**
 * The type of the first bytes, if it is allowed.
 * @throws {NotAnImageError} (415) when the bytes match no image signature.
 * @throws {ImageTypeNotAllowedError} (415) when they are an image of a format not allowed.
 */
export function checkHead(
  head: Uint8Array,
  options: ResolvedImageOptions,
  field?: string,
): SniffedType & { format: ImageFormat } {
  const sniffed = sniffImageType(head);
  if (sniffed === undefined) {
    throw new NotAnImageError(
      `The file is not an image; send one of ${options.mimetypes.join(', ')}.`,
      { field },
    );
  }
  if (!isAllowed(sniffed.format, options)) {
    throw new ImageTypeNotAllowedError(sniffed.mimetype, options.mimetypes, { field });
  }
  return sniffed as SniffedType & { format: ImageFormat };
}

/**
 * The full decode of an inspected upload, not run yet: {@link runFullDecode} runs it, and may
 * render thumbnails in the same decode.
 */
export interface PendingDecode {
  readonly input: string | Buffer;
  readonly staged: StagedFile;
  readonly format: ImageFormat;
  readonly pages: number;
  readonly options: ResolvedImageOptions;
  readonly field: string | undefined;
}

/**
 * Reads and checks a staged file whose head passed {@link checkHead}. Run it through the
 * processing queue: it decodes the whole image when `verify` is on, unless `deferDecode` asks
 * for that decode back (as `decode`) to run later with the thumbnails.
 * @throws the 413, 415 and 422 upload errors.
 */
export async function inspectStagedFile(
  staged: StagedFile,
  options: ResolvedImageOptions,
  field?: string,
  deferDecode = false,
): Promise<InspectedImage & { decode?: PendingDecode }> {
  const sniffed = checkHead(staged.head, options, field);
  if (sniffed.format === 'pdf') return await inspectStagedPdf(staged, options, field);
  // An SVG is read and rendered from memory: by path, librsvg would resolve its relative
  // references against the temporary folder, where other uploads sit.
  const input = sniffed.format === 'svg' ? await checkSvg(staged, options, field) : staged.path;
  // Our own header read first: it refuses bombs before sharp allocates their metadata.
  const headers = await readImageHeaders(staged.path, sniffed.format, {
    maxFrames: options.maxFrames,
    maxMetadataSize: Math.max(options.maxIccSize, options.maxExifSize, options.maxXmpSize),
  });
  if (headers !== undefined) checkHeaders(headers, options, field);
  let info: ImageInfo;
  try {
    info = await readImageInfo(input);
  } catch (error) {
    throw decodeError(error, staged, sniffed.format, field);
  }
  if (!sharpNamesOf(sniffed.format).includes(info.format)) {
    // The signature said one thing and the decoder another: trust neither.
    throw new ImageUndecodableError(
      `The file starts as ${sniffed.mimetype} but does not decode as one.`,
      { field },
    );
  }
  checkWork(
    Math.max(info.width * info.height, headers?.area ?? 0),
    Math.max(info.pages, headers?.frames ?? 1),
    options,
    field,
  );
  const inspected = { ...info, format: sniffed.format, mimetype: sniffed.mimetype };
  if (!options.verify) return inspected;
  const decode = { input, staged, format: sniffed.format, pages: info.pages, options, field };
  if (deferDecode) return { ...inspected, decode };
  await runFullDecode(decode);
  return inspected;
}

function isAllowed(format: SniffedType['format'], options: ResolvedImageOptions): boolean {
  return (options.formats as ReadonlySet<string>).has(format);
}

/** Metadata sizes, then pixels, frames and total work, as the container declares them. */
function checkHeaders(
  headers: ImageHeaders,
  options: ResolvedImageOptions,
  field: string | undefined,
): void {
  const limits = [
    ['icc', headers.icc, options.maxIccSize],
    ['exif', headers.exif, options.maxExifSize],
    ['xmp', headers.xmp, options.maxXmpSize],
  ] as const;
  for (const [kind, bytes, limit] of limits) {
    if (bytes > limit) throw new ImageMetadataTooLargeError(kind, bytes, limit, { field });
  }
  checkWork(headers.area, headers.frames, options, field);
}

/**
 * `area` is the largest canvas or frame one decode allocates; `frames` × `area` is what
 * decoding every frame composites.
 */
function checkWork(
  area: number,
  frames: number,
  options: ResolvedImageOptions,
  field: string | undefined,
): void {
  if (area > options.maxPixels) {
    throw new ImageTooManyPixelsError(area, options.maxPixels, { field });
  }
  if (frames > options.maxFrames) {
    throw new ImageTooManyFramesError(frames, options.maxFrames, { field });
  }
  if (area * frames > options.maxTotalPixels) {
    throw new ImageTooMuchWorkError(area * frames, options.maxTotalPixels, { field });
  }
}

async function checkSvg(
  staged: StagedFile,
  options: ResolvedImageOptions,
  field: string | undefined,
): Promise<Buffer> {
  if (staged.size > options.maxSvgSize) {
    throw new UploadFileTooLargeError(options.maxSvgSize, { field });
  }
  const bytes = await readFile(staged.path);
  const problem = findSvgProblem(bytes);
  if (problem !== undefined) throw new UnsafeSvgError(problem, { field });
  return bytes;
}

/**
 * Decodes every frame in a child process of the queue's pool, killed after `decodeTimeout`:
 * only the path crosses the process boundary. With `thumbnails`, the same decode renders them
 * (under the same time limit), and they are returned in the order of their boxes. Run it in a
 * slot of the processing queue.
 * @throws the 422 decode errors.
 */
export async function runFullDecode(
  decode: PendingDecode,
  thumbnails?: Omit<ThumbnailJob, 'pages'>,
): Promise<RenderedThumbnail[]> {
  const { input, staged, format, options, field } = decode;
  const result = await decoderPoolFor(options.queue).decode(
    input,
    options.decodeTimeout,
    thumbnails === undefined ? undefined : { ...thumbnails, pages: decode.pages },
  );
  if (result.outcome === 'timeout') {
    throw new ImageDecodeTimeoutError(options.decodeTimeout, { field });
  }
  if (result.outcome === 'failed') {
    throw decodeError(new Error(result.message), staged, format, field);
  }
  return result.thumbnails ?? [];
}

/** A decoder's failure as 422: truncated when the file's end or the message says so. */
function decodeError(
  error: unknown,
  staged: StagedFile,
  format: ImageFormat,
  field: string | undefined,
): Error {
  const cause = error instanceof NotAnImageError && error.cause !== undefined ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (TRUNCATION.test(message) || endsEarly(staged, format)) {
    return new ImageTruncatedError('The image ends before its data does; send the complete file.', {
      field,
      cause,
    });
  }
  return new ImageUndecodableError('The image is corrupt and cannot be decoded.', {
    field,
    cause,
  });
}

/** Whether a file lacks the end its format requires (only asked once decoding has failed). */
function endsEarly(staged: StagedFile, format: ImageFormat): boolean {
  const { tail, head, size } = staged;
  switch (format) {
    case 'jpeg':
      return !(tail.at(-2) === 0xff && tail.at(-1) === 0xd9);
    case 'png':
      return tail.subarray(-8, -4).toString('latin1') !== 'IEND';
    case 'gif':
      return tail.at(-1) !== 0x3b;
    case 'webp':
      return head.length >= 8 && head.readUInt32LE(4) + 8 > size;
    default:
      return false;
  }
}
