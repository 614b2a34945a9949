/**
 * The SVG safety check. An SVG is a document: served from our origin, it could run script,
 * load other resources or expand entities. Rather than sanitise (and risk a parser
 * differential), an SVG showing any of that is refused whole.
 */

/** Why an SVG was refused: the first active or external construct found. */
export type SvgProblem =
  | 'encoding'
  | 'doctype'
  | 'entity'
  | 'processing-instruction'
  | 'script'
  | 'foreign-object'
  | 'embedded-document'
  | 'event-handler'
  | 'javascript-url'
  | 'external-reference'
  | 'href-animation';

/** Elements that run script or embed another document. */
const ACTIVE_ELEMENTS: ReadonlyArray<[RegExp, SvgProblem]> = [
  [/<(?:[\w.-]+:)?script[\s>/]/i, 'script'],
  [/<(?:[\w.-]+:)?foreignObject[\s>/]/i, 'foreign-object'],
  [
    /<(?:[\w.-]+:)?(?:iframe|embed|object|frame|frameset|applet|audio|video|handler|listener)[\s>/]/i,
    'embedded-document',
  ],
];

/** `on…=` attributes run script in browsers (`onload`, `onclick`, `onbegin`, …). */
const EVENT_HANDLER = /[\s"'/]on[a-z]+\s*=/i;
/** Script and document schemes, once entities and white space are gone. */
const SCRIPT_URL =
  /(?:javascript|vbscript|livescript):|data:(?:text\/html|application\/(?:xhtml|ecmascript|javascript)|image\/svg)/i;
/** Attributes whose value is a URL. */
const URL_ATTRIBUTE = /(?:^|[\s"'])(?:[\w.-]+:)?(href|src|xml:base)\s*=\s*("[^"]*"|'[^']*')/gi;
/** CSS references: `url(…)`, `@import`, `image-set(…)`. */
const CSS_URL = /url\s*\(\s*(?:"([^"]*)"|'([^']*)'|([^)]*))\)/gi;
/** Embedded rasters are data, not references; anything else must stay inside the document. */
const INLINE_DATA_URL = /^data:image\/(?:png|jpeg|gif|webp|avif);/i;
/** `<set>`/`<animate>` may retarget a link to any URL at run time. */
const HREF_ANIMATION = /attributeName\s*=\s*["']\s*(?:[\w.-]+:)?(?:href|src)\s*["']/i;

/**
 * The first problem found in an SVG document, or `undefined` when it is safe to serve as an
 * image: no DOCTYPE or entity declarations, no processing instructions other than the XML
 * declaration, no script, event handler, `javascript:` URL, `foreignObject` or embedded
 * document, and no reference to anything outside the document (only `#fragment` links and
 * inline raster `data:` URLs).
 * @param bytes the whole document, UTF-8.
 */
export function findSvgProblem(bytes: Uint8Array): SvgProblem | undefined {
  const text = decodeUtf8(bytes);
  if (text === undefined) return 'encoding';
  const declaration = /^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([^"']*)["']/i.exec(text);
  if (declaration && !/^(?:utf-?8|us-ascii)$/i.test(declaration[1]!)) return 'encoding';
  if (/<!DOCTYPE/i.test(text)) return 'doctype';
  if (/<!ENTITY/i.test(text)) return 'entity';
  if (/<\?(?!xml\s)/i.test(text.replace(/^\s*<\?xml\s[^>]*\?>/i, ''))) {
    return 'processing-instruction';
  }
  for (const [pattern, problem] of ACTIVE_ELEMENTS) if (pattern.test(text)) return problem;
  if (EVENT_HANDLER.test(text)) return 'event-handler';
  if (SCRIPT_URL.test(normalizeForSchemes(text))) return 'javascript-url';
  if (HREF_ANIMATION.test(text)) return 'href-animation';
  for (const match of text.matchAll(URL_ATTRIBUTE)) {
    const name = match[1]!.toLowerCase();
    const value = decodeReferences(match[2]!.slice(1, -1)).trim();
    if (name === 'xml:base' || !isLocalReference(value)) return 'external-reference';
  }
  for (const match of text.matchAll(CSS_URL)) {
    const value = decodeReferences(match[1] ?? match[2] ?? match[3] ?? '').trim();
    if (!isLocalReference(value)) return 'external-reference';
  }
  if (/@import/i.test(text)) return 'external-reference';
  return undefined;
}

function isLocalReference(value: string): boolean {
  return value === '' || value.startsWith('#') || INLINE_DATA_URL.test(value);
}

/** Strict UTF-8 (a UTF-8 BOM allowed), without NUL, so no other encoding can hide markup. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}

/** Character references decoded; browsers decode them in attribute values before use. */
function decodeReferences(value: string): string {
  return value.replace(
    /&#(?:x([0-9a-f]+)|(\d+));?/gi,
    (_, hex: string | undefined, dec: string | undefined) => {
      const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    },
  );
}

/** URL parsers drop white space and controls inside a scheme (`java\tscript:`); so do we. */
function normalizeForSchemes(text: string): string {
  return (
    decodeReferences(text)
      .replace(/&(?:tab|newline|colon);/gi, (entity) =>
        entity.toLowerCase() === '&colon;' ? ':' : '',
      )
      // eslint-disable-next-line no-control-regex -- controls are exactly what must go
      .replace(/[\s\u0000-\u001f]+/g, '')
  );
}
