/**
 * `svg: 'rasterize'`: an SVG that passed the safety check is rendered to a PNG, which is staged
 * and kept instead, so no SVG ever reaches a store.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { ImageUndecodableError } from '../errors.js';
import { mimetypeOfFormat } from '../images/magic.js';
import type { InspectedImage } from './inspect.js';
import type { ResolvedImageOptions } from './options.js';
import { stageToTempFile, type StagedFile } from './stage.js';

/**
 * Renders a checked SVG, from memory (librsvg resolves relative references against the folder
 * of an SVG read by path), to a PNG staged beside it; the SVG's temporary file is left to the
 * caller. The PNG is held to `maxFileSize` as any upload is.
 * @param onPath called with the PNG's temporary path before it is created, to track it.
 * @throws {ImageUndecodableError} (422) when the SVG cannot be rendered.
 */
export async function rasterizeSvg(
  svg: StagedFile,
  options: ResolvedImageOptions,
  field: string | undefined,
  onPath?: (path: string) => void,
): Promise<{ staged: StagedFile; info: InspectedImage }> {
  const bytes = await readFile(svg.path);
  const render = sharp(bytes, { limitInputPixels: options.maxPixels, failOn: 'error' }).png();
  let size: { width: number; height: number } | undefined;
  render.once('info', ({ width, height }: { width: number; height: number }) => {
    size = { width, height };
  });
  let staged: StagedFile;
  try {
    staged = await stageToTempFile(render, {
      dir: options.tmpDir,
      maxBytes: options.maxFileSize,
      field,
      onPath,
    });
  } catch (error) {
    if (error instanceof Error && 'status' in error) throw error;
    throw new ImageUndecodableError('The SVG could not be rendered.', { field, cause: error });
  }
  if (size === undefined)
    throw new ImageUndecodableError('The SVG rendered to nothing.', { field });
  return {
    staged,
    info: {
      mimetype: mimetypeOfFormat('png'),
      format: 'png',
      ...size,
      orientation: 1,
      pages: 1,
      hasAlpha: true,
    },
  };
}
