/**
 * The one table of image formats: each format's name, its mimetypes, its file extension and
 * sharp's names for it. Every other table of formats in the library is derived from this one.
 */

export interface FormatEntry {
  /** The library's name of the format (the upload `formats` and thumbnail `format` names). */
  readonly format: string;
  /** Its mimetypes, the canonical one first; the others are read as aliases of it. */
  readonly mimetypes: readonly [string, ...string[]];
  /**
   * The file extension of stored files. `image/jpeg` is `.jpe`, as the original hard-codes
   * for files stored by old Pythons; the rest are what Python's `mimetypes` gives, fixed here
   * so that the result never depends on the platform.
   */
  readonly extension: string;
  /** sharp's `metadata().format` names of it; empty where sharp has no loader of its own. */
  readonly sharp: readonly string[];
  /** Whether thumbnails can be written in it. */
  readonly writable: boolean;
}

export const FORMATS: readonly FormatEntry[] = Object.freeze([
  { format: 'jpeg', mimetypes: ['image/jpeg'], extension: '.jpe', sharp: ['jpeg'], writable: true },
  { format: 'png', mimetypes: ['image/png'], extension: '.png', sharp: ['png'], writable: true },
  { format: 'gif', mimetypes: ['image/gif'], extension: '.gif', sharp: ['gif'], writable: true },
  {
    format: 'webp',
    mimetypes: ['image/webp'],
    extension: '.webp',
    sharp: ['webp'],
    writable: true,
  },
  {
    format: 'avif',
    mimetypes: ['image/avif'],
    extension: '.avif',
    sharp: ['heif'],
    writable: true,
  },
  {
    format: 'heic',
    mimetypes: ['image/heic'],
    extension: '.heic',
    sharp: ['heif'],
    writable: false,
  },
  {
    format: 'heif',
    mimetypes: ['image/heif'],
    extension: '.heif',
    sharp: ['heif'],
    writable: false,
  },
  {
    format: 'svg',
    mimetypes: ['image/svg+xml'],
    extension: '.svg',
    sharp: ['svg'],
    writable: false,
  },
  {
    format: 'tiff',
    mimetypes: ['image/tiff'],
    extension: '.tiff',
    sharp: ['tiff'],
    writable: true,
  },
  {
    format: 'bmp',
    mimetypes: ['image/bmp', 'image/ms-bmp'],
    extension: '.bmp',
    sharp: [],
    writable: false,
  },
  {
    format: 'ico',
    mimetypes: ['image/vnd.microsoft.icon', 'image/icon'],
    extension: '.ico',
    sharp: [],
    writable: false,
  },
  { format: 'jxl', mimetypes: ['image/jxl'], extension: '.jxl', sharp: ['jxl'], writable: false },
  { format: 'jp2', mimetypes: ['image/jp2'], extension: '.jp2', sharp: ['jp2k'], writable: false },
  {
    format: 'pdf',
    mimetypes: ['application/pdf'],
    extension: '.pdf',
    sharp: ['pdf'],
    writable: false,
  },
] satisfies FormatEntry[]);

/** The formats thumbnails can be written in. */
export const WRITABLE_FORMATS: readonly string[] = FORMATS.filter((entry) => entry.writable).map(
  (entry) => entry.format,
);

/** Extensions by mimetype, aliases included. */
export const EXTENSIONS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    FORMATS.flatMap(({ mimetypes, extension }) => mimetypes.map((m) => [m, extension])),
  ),
);

/** The canonical mimetype of each extension: `.bmp` and `.ico` have aliases, which name one file. */
export const MIMETYPE_OF_EXTENSION: ReadonlyMap<string, string> = new Map(
  FORMATS.map(({ extension, mimetypes }) => [extension, mimetypes[0]]),
);

const BY_FORMAT = new Map(FORMATS.map((entry) => [entry.format, entry]));

/** The canonical mimetype of a format of the table. */
export function mimetypeOfFormat(format: string): string {
  const entry = BY_FORMAT.get(format);
  if (entry === undefined) throw new TypeError(`unknown image format ${JSON.stringify(format)}`);
  return entry.mimetypes[0];
}

/** sharp's names of a format of the table. */
export function sharpNamesOf(format: string): readonly string[] {
  return BY_FORMAT.get(format)?.sharp ?? [];
}

/** The format a mimetype names, if thumbnails can be written in it. */
export function writableFormatOf(mimetype: string): string | undefined {
  const entry = FORMATS.find((candidate) => candidate.mimetypes.includes(mimetype));
  return entry?.writable === true ? entry.format : undefined;
}

/**
 * Mimetypes by sharp format name, for the names that mean one format only (`heif` is AVIF,
 * HEIC or HEIF: sharp's `mediaType` tells those apart).
 */
export const MIMETYPE_OF_SHARP_FORMAT: ReadonlyMap<string, string> = new Map(
  [...new Set(FORMATS.flatMap((entry) => entry.sharp))].flatMap((name) => {
    const entries = FORMATS.filter((entry) => entry.sharp.includes(name));
    return entries.length === 1 ? [[name, entries[0]!.mimetypes[0]] as const] : [];
  }),
);
