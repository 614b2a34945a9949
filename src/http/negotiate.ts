/**
 * Content negotiation for the serving middleware: a request for a file whose AVIF or WebP
 * sibling exists (the same key in another format, e.g. made by `generateThumbnails(sizes,
 * { formats: ['avif', 'webp'] })`) is answered with the sibling when `Accept` names its type.
 * Only a type named outright counts: `*\/*` and `image/*` are sent by browsers that cannot
 * decode AVIF as well.
 */
import { statSync, type BigIntStats } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import Negotiator from 'negotiator';
import { FORMATS } from '../images/formats.js';

/** What a negotiated request is answered with. */
export interface Representation {
  /** The path below the folder, as the URL would name it. */
  relative: string;
  /** The real path of the file. */
  real: string;
  /** An ETag of this file in this format: representations never share one. */
  etag: string;
}

/** The types offered instead of a requested file's own, in the order they are preferred. */
const OFFERED = ['image/avif', 'image/webp'].map((mimetype) => ({
  mimetype,
  extension: FORMATS.find((entry) => entry.mimetypes[0] === mimetype)!.extension,
}));

/** Files of the formats thumbnails are written in, besides the offered ones, are negotiated. */
const NEGOTIATED_EXTENSIONS = new Set(
  FORMATS.filter(
    (entry) => entry.writable && !OFFERED.some((offer) => offer.extension === entry.extension),
  ).map((entry) => entry.extension),
);

/** Whether a request for `relative` is negotiated (and so its response varies by `Accept`). */
export function isNegotiated(relative: string): boolean {
  return NEGOTIATED_EXTENSIONS.has(extensionOf(relative));
}

/**
 * The representation of `real` (the requested file, a negotiated one) to answer `req` with:
 * the first offered type `Accept` names whose sibling `contained` accepts, else the file
 * itself. `undefined` when the file is not there.
 */
export function negotiateFile(
  req: IncomingMessage,
  relative: string,
  real: string,
  contained: (path: string) => string | undefined,
): Representation | undefined {
  const accept = req.headers.accept;
  if (accept !== undefined) {
    const negotiator = new Negotiator({ headers: { accept } });
    const named = new Set(negotiator.mediaTypes());
    // Preferred by the client's q-values, then by our order; wildcards never choose a type.
    const wanted = negotiator
      .mediaTypes(OFFERED.map((offer) => offer.mimetype))
      .filter((mimetype) => named.has(mimetype));
    for (const mimetype of wanted) {
      const { extension } = OFFERED.find((offer) => offer.mimetype === mimetype)!;
      const siblingReal = contained(withExtension(real, extension));
      const stats = siblingReal === undefined ? undefined : fileStats(siblingReal);
      if (siblingReal !== undefined && stats !== undefined) {
        const siblingRelative = withExtension(relative, extension);
        return { relative: siblingRelative, real: siblingReal, etag: etagOf(stats, extension) };
      }
    }
  }
  const stats = fileStats(real);
  if (stats === undefined) return undefined;
  return { relative, real, etag: etagOf(stats, extensionOf(relative)) };
}

/**
 * send's weak ETag (size and mtime) with the format added: two representations written in
 * the same millisecond with the same length still differ.
 */
function etagOf(stats: BigIntStats, extension: string): string {
  const mtime = stats.mtimeMs.toString(16);
  return `W/"${stats.size.toString(16)}-${mtime}-${extension.slice(1)}"`;
}

function fileStats(path: string): BigIntStats | undefined {
  try {
    const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
    return stats?.isFile() === true ? stats : undefined;
  } catch {
    return undefined;
  }
}

function extensionOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot <= path.lastIndexOf('/') ? '' : path.slice(dot).toLowerCase();
}

function withExtension(path: string, extension: string): string {
  return path.slice(0, path.lastIndexOf('.')) + extension;
}
