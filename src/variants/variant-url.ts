/**
 * `set.variantUrl()`: the signed URL at which `variantRouter` makes and answers one size of a
 * set, computed without a database read.
 */
import type { ModelStatic } from 'sequelize';
import { InvalidOptionError } from '../errors.js';
import { WRITABLE_FORMATS } from '../images/formats.js';
import type { ThumbnailFormat } from '../images/thumbnail.js';
import type { Image } from '../models/image.js';
import { secretBytes, signedVariantPath, type VariantSize } from './variant-path.js';

/** Options of `set.variantUrl()`: one side, the format, and what the router was given. */
export type VariantUrlOptions = VariantSize & {
  /** The format of the variant (the URL's extension). */
  format: ThumbnailFormat;
  /** The router's `secret`. */
  secret: string | Buffer;
  /**
   * What goes before the signed path: the router's mount path (`/variants`), or an absolute
   * URL of it (`https://cdn.example.com/variants`).
   * @default ''
   */
  mountPath?: string;
};

/** The URL of a variant of the set of `model` with `identity`. */
export function variantUrlOf(
  model: ModelStatic<Image>,
  identity: Record<string, unknown>,
  options: VariantUrlOptions,
): string {
  const { width, height, format } = options ?? {};
  const sides = [width, height].filter((side) => side !== undefined);
  if (sides.length !== 1 || !sides.every((side) => Number.isSafeInteger(side) && side > 0)) {
    throw new TypeError('pass one positive integer width or height');
  }
  if (!WRITABLE_FORMATS.includes(format)) {
    throw new InvalidOptionError('format', `must be one of ${WRITABLE_FORMATS.join(', ')}`);
  }
  const mountPath = options.mountPath ?? '';
  if (typeof mountPath !== 'string') throw new InvalidOptionError('mountPath', 'must be a string');
  const type = (model as unknown as typeof Image).objectType ?? model.tableName.replace(/_/g, '-');
  const names = (model as unknown as typeof Image).identityAttributes.call(model);
  const id = names.map((name) => String(identity[name]));
  const path = signedVariantPath(secretBytes(options.secret), {
    type,
    id,
    size: width !== undefined ? { width } : { height: height },
    format,
  });
  return `${mountPath.replace(/\/+$/, '')}${path}`;
}
