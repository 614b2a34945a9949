/**
 * The options that decide what an upload may be, validated and resolved to their defaults
 * once, when the middleware or storage engine is made.
 */
import { tmpdir } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { mimetypeOfFormat, type ImageFormat } from '../images/magic.js';
import {
  DEFAULT_PDF_LIMITS,
  PDF_PEER_DEPENDENCIES,
  pdfSupportInstalled,
} from '../images/pdf-render.js';
import { defaultProcessingQueue, ProcessingQueue } from '../images/queue.js';

/** What becomes of an accepted SVG upload (see {@link ImageStorageOptions.svg}). */
export type SvgHandling = 'keep' | 'rasterize';

export interface ImageStorageOptions {
  /**
   * The formats accepted, by their bytes. `'svg'` is accepted only when listed, and then only
   * SVGs that pass the safety check; `'pdf'` only when listed, and then only with the optional
   * peer dependency `pdfjs-dist` installed (see "PDF originals").
   * @default ['jpeg', 'png', 'webp', 'avif', 'gif']
   */
  formats?: readonly ImageFormat[];
  /**
   * Bytes per file.
   * @default 20 MiB (20971520)
   */
  maxFileSize?: number;
  /**
   * Pixels per image (width × height of one frame), checked from the header before any decode.
   * @default 50000000 (50 megapixels)
   */
  maxPixels?: number;
  /**
   * Frames per animation (GIF, WebP, AVIF sequences).
   * @default 100
   */
  maxFrames?: number;
  /**
   * Pixels decoded in all: the largest canvas or frame × the frames, read from the headers
   * (a GIF's logical screen, an APNG's `acTL`, an animated WebP's canvas) before any decode.
   * @default 250000000 (250 megapixels, e.g. 100 frames of 1600×1500)
   */
  maxTotalPixels?: number;
  /**
   * Milliseconds the verify decode may take. It runs in a child process, killed at the limit:
   * sharp's own `timeout` does not stop a long decode into a small output.
   * @default 5000
   */
  decodeTimeout?: number;
  /**
   * Bytes of an embedded ICC profile (JPEG APP2 segments together, PNG `iCCP` inflated, WebP
   * `ICCP`), read from the headers before any decode.
   * @default 1 MiB (1048576)
   */
  maxIccSize?: number;
  /**
   * Bytes of embedded EXIF (JPEG APP1, PNG `eXIf`, WebP `EXIF`).
   * @default 1 MiB (1048576)
   */
  maxExifSize?: number;
  /**
   * Bytes of embedded XMP (JPEG APP1 incl. extended XMP, PNG `iTXt`, WebP `XMP `).
   * @default 1 MiB (1048576)
   */
  maxXmpSize?: number;
  /**
   * Bytes per SVG: the safety check reads an SVG whole, so it has its own, smaller limit.
   * @default 1 MiB (1048576)
   */
  maxSvgSize?: number;
  /**
   * Pages per PDF, counted by pdf.js before anything is rendered.
   * @default 100
   */
  maxPdfPages?: number;
  /**
   * Points (1/72 inch, times the page's `/UserUnit`) per side of a PDF's first page; the page
   * must also be within `maxPixels` square points, so that it renders at 72 dpi.
   * @default 14400 (200 inches, the PDF specification's limit)
   */
  maxPdfPageSize?: number;
  /**
   * Milliseconds pdf.js may take to read a PDF and render its first page. It runs in a worker
   * thread of its own, ended at the limit.
   * @default 5000
   */
  pdfRenderTimeout?: number;
  /**
   * What becomes of an SVG that passed the safety check: `'keep'` stores it as it is;
   * `'rasterize'` renders it (from memory, never from its path) and stores a PNG original
   * instead, so no SVG is ever stored; `req.file` then says PNG and the rendered size.
   * @default 'keep'
   */
  svg?: SvgHandling;
  /**
   * Decode each image completely (streaming, in strips) to refuse truncated or corrupt ones
   * with 422 before anything is stored. Without it only the header is read.
   * @default true
   */
  verify?: boolean;
  /**
   * The folder for temporary files.
   * @default os.tmpdir()
   */
  tmpDir?: string;
  /**
   * The queue that header reads and decodes run through.
   * @default a process-wide queue sized to the machine (see `ProcessingQueue`)
   */
  queue?: ProcessingQueue;
}

/** {@link ImageStorageOptions} with every default applied. */
export interface ResolvedImageOptions {
  readonly formats: ReadonlySet<ImageFormat>;
  /** The mimetypes of `formats`, for messages. */
  readonly mimetypes: readonly string[];
  readonly maxFileSize: number;
  readonly maxPixels: number;
  readonly maxFrames: number;
  readonly maxTotalPixels: number;
  readonly decodeTimeout: number;
  readonly maxIccSize: number;
  readonly maxExifSize: number;
  readonly maxXmpSize: number;
  readonly maxSvgSize: number;
  readonly maxPdfPages: number;
  readonly maxPdfPageSize: number;
  readonly pdfRenderTimeout: number;
  readonly svg: SvgHandling;
  readonly verify: boolean;
  readonly tmpDir: string;
  readonly queue: ProcessingQueue;
}

export const DEFAULT_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'webp', 'avif', 'gif'];
const KNOWN_FORMATS: readonly ImageFormat[] = [...DEFAULT_FORMATS, 'svg', 'pdf'];
export const DEFAULT_MAX_FILE_SIZE = 20 * 1024 * 1024;
export const DEFAULT_MAX_PIXELS = 50_000_000;
export const DEFAULT_MAX_FRAMES = 100;
export const DEFAULT_MAX_SVG_SIZE = 1024 * 1024;
export const DEFAULT_MAX_TOTAL_PIXELS = 250_000_000;
export const DEFAULT_DECODE_TIMEOUT = 5000;
export const DEFAULT_MAX_METADATA_SIZE = 1024 * 1024;

export function resolveImageOptions(options: ImageStorageOptions = {}): ResolvedImageOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object');
  }
  const formats: unknown = options.formats ?? DEFAULT_FORMATS;
  if (
    !Array.isArray(formats) ||
    formats.length === 0 ||
    !formats.every((format): format is ImageFormat => KNOWN_FORMATS.includes(format as ImageFormat))
  ) {
    throw new InvalidOptionError(
      'formats',
      `must be a non-empty array of ${KNOWN_FORMATS.map((f) => `'${f}'`).join(', ')}`,
    );
  }
  if ((formats as readonly ImageFormat[]).includes('pdf') && !pdfSupportInstalled()) {
    throw new InvalidOptionError(
      'formats',
      `'pdf' needs the optional peer dependency pdfjs-dist: npm install ${PDF_PEER_DEPENDENCIES.join(' ')}`,
    );
  }
  if (options.verify !== undefined && typeof options.verify !== 'boolean') {
    throw new InvalidOptionError('verify', 'must be a boolean');
  }
  const svg = options.svg ?? 'keep';
  if (svg !== 'keep' && svg !== 'rasterize') {
    throw new InvalidOptionError(
      'svg',
      `must be 'keep' or 'rasterize', not ${JSON.stringify(svg)}`,
    );
  }
  const tmpDir = options.tmpDir ?? tmpdir();
  if (typeof tmpDir !== 'string' || tmpDir === '') {
    throw new InvalidOptionError('tmpDir', 'must be a non-empty string naming a folder');
  }
  const queue = options.queue ?? defaultProcessingQueue();
  if (!(queue instanceof ProcessingQueue)) {
    throw new InvalidOptionError('queue', 'must be a ProcessingQueue');
  }
  return {
    formats: new Set(formats),
    mimetypes: formats.map(mimetypeOfFormat),
    maxFileSize: positiveInteger('maxFileSize', options.maxFileSize, DEFAULT_MAX_FILE_SIZE),
    maxPixels: positiveInteger('maxPixels', options.maxPixels, DEFAULT_MAX_PIXELS),
    maxFrames: positiveInteger('maxFrames', options.maxFrames, DEFAULT_MAX_FRAMES),
    maxTotalPixels: positiveInteger(
      'maxTotalPixels',
      options.maxTotalPixels,
      DEFAULT_MAX_TOTAL_PIXELS,
    ),
    decodeTimeout: positiveInteger('decodeTimeout', options.decodeTimeout, DEFAULT_DECODE_TIMEOUT),
    maxIccSize: positiveInteger('maxIccSize', options.maxIccSize, DEFAULT_MAX_METADATA_SIZE),
    maxExifSize: positiveInteger('maxExifSize', options.maxExifSize, DEFAULT_MAX_METADATA_SIZE),
    maxXmpSize: positiveInteger('maxXmpSize', options.maxXmpSize, DEFAULT_MAX_METADATA_SIZE),
    maxSvgSize: positiveInteger('maxSvgSize', options.maxSvgSize, DEFAULT_MAX_SVG_SIZE),
    maxPdfPages: positiveInteger('maxPdfPages', options.maxPdfPages, DEFAULT_PDF_LIMITS.maxPages),
    maxPdfPageSize: positiveInteger(
      'maxPdfPageSize',
      options.maxPdfPageSize,
      DEFAULT_PDF_LIMITS.maxPageSize,
    ),
    pdfRenderTimeout: positiveInteger(
      'pdfRenderTimeout',
      options.pdfRenderTimeout,
      DEFAULT_PDF_LIMITS.renderTimeout,
    ),
    svg,
    verify: options.verify ?? true,
    tmpDir,
    queue,
  };
}

/** A limit: a positive safe integer, or the default when not given. */
export function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(name, `must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return value;
}
