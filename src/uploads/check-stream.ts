/**
 * The one path every upload's bytes take, whoever sends them: a multipart part (`uploadImage`)
 * or an object a browser put in S3 (`directUploads`). The stream is staged to a temporary file
 * while counted, hashed and sniffed; then, through the processing queue, it is inspected (the
 * header budgets, the SVG check, the full decode) and an SVG is rasterized when asked.
 */
import type { Readable } from 'node:stream';
import { UploadFileTooLargeError } from '../errors.js';
import { removeFile } from './cleanup.js';
import {
  checkHead,
  inspectStagedFile,
  runFullDecode,
  type InspectedImage,
  type PendingDecode,
} from './inspect.js';
import type { ResolvedImageOptions } from './options.js';
import { rasterizeSvg } from './rasterize.js';
import { stageToTempFile, type StagedFile } from './stage.js';

/** An upload that passed every check: its temporary file and what it is. */
export interface CheckedUpload {
  staged: StagedFile;
  info: InspectedImage;
  /** Whether `staged` is the PNG rendering of an SVG upload (`svg: 'rasterize'`). */
  rasterized: boolean;
}

export interface CheckStreamOptions {
  /** The form field, for errors. */
  field?: string | undefined;
  /**
   * Bytes the stream may have, when fewer than `maxFileSize` (a direct upload's token).
   * @default the options' `maxFileSize`
   */
  maxBytes?: number | undefined;
  /** Called with each temporary file's path before it is created, so it can be tracked. */
  onPath?: ((path: string) => void) | undefined;
  /**
   * Asked once the stream is staged: `true` when its source cut it short (multer's own size
   * limit), which fails the upload as too large without a decode.
   */
  cutShort?: (() => boolean) | undefined;
  /**
   * Takes the full decode instead of running it, for a later step that decodes once for the
   * check and the thumbnails (attachImage after uploadImage, see deferred-decode.ts).
   * @default none: the decode runs here
   */
  deferDecode?: ((path: string, decode: PendingDecode) => void) | undefined;
}

/**
 * Stages `source` and checks it; on any failure every temporary file is removed and the
 * promise rejects with the upload error (400, 413, 415, 422) that says why.
 */
export async function checkImageStream(
  source: Readable,
  resolved: ResolvedImageOptions,
  options: CheckStreamOptions = {},
): Promise<CheckedUpload> {
  const { field, onPath } = options;
  const staged = await stageToTempFile(source, {
    dir: resolved.tmpDir,
    maxBytes: Math.min(options.maxBytes ?? resolved.maxFileSize, resolved.maxFileSize),
    field,
    onHead: (head) => void checkHead(head, resolved, field),
    onPath,
  });
  try {
    if (options.cutShort?.() === true) {
      throw new UploadFileTooLargeError(staged.size - 1, { field });
    }
    return await resolved.queue.run(async () => {
      const defer = options.deferDecode;
      const info = await inspectStagedFile(staged, resolved, field, defer !== undefined);
      if (info.format !== 'svg' || resolved.svg !== 'rasterize') {
        if (info.decode !== undefined) defer?.(staged.path, info.decode);
        return { staged, info, rasterized: false };
      }
      if (info.decode !== undefined) await runFullDecode(info.decode);
      const png = await rasterizeSvg(staged, resolved, field, onPath);
      await removeFile(staged.path);
      return { ...png, rasterized: true };
    });
  } catch (error) {
    await removeFile(staged.path).catch(() => undefined);
    throw error;
  }
}
