/**
 * How strictly every decode of an original judges damage, in one place: the upload's verify
 * decode and the thumbnail decode must agree, or a file that passed verification would fail
 * later with another code.
 */
import type { SharpOptions } from 'sharp';

/**
 * sharp's `failOn` for originals: `'error'` refuses what libvips calls an error (a PNG chunk
 * with a bad CRC, corrupt JPEG data) as well as truncation, and lets warnings through.
 */
export const DECODE_FAIL_ON: NonNullable<SharpOptions['failOn']> = 'error';
