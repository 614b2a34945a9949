/**
 * The SVG safety check. An SVG is a document: served from our origin, it could run script,
 * load other resources or expand entities. Rather than sanitise (and risk a parser
 * differential), an SVG holding anything outside an allow-list of static drawing is refused
 * whole. It is parsed, not matched: saxes (namespace-aware, non-validating, no DTD, no entity
 * expansion) resolves every name to its namespace URI, and CSS goes through a CSS tokenizer
 * (see `svg-css.ts`).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import {
  attributeKind,
  isEditorElement,
  isSvgElement,
  SVG_NS,
  XLINK_NS,
  XML_NS,
  XMLNS_NS,
} from './svg-allow-list.js';
import { findCssProblem, type CssProblem } from './svg-css.js';
import { isFragmentReference, isRasterDataUrl } from './svg-urls.js';

/** Why an SVG was refused: the first construct found outside the allow-list. */
export type SvgProblem =
  | CssProblem
  | 'encoding'
  | 'malformed'
  | 'nesting'
  | 'doctype'
  | 'entity'
  | 'processing-instruction'
  | 'cdata'
  | 'script'
  | 'foreign-object'
  | 'embedded-document'
  | 'link'
  | 'animation'
  | 'href-animation'
  | 'element'
  | 'namespace'
  | 'attribute'
  | 'event-handler'
  | 'javascript-url';

/** Elements that embed another document, in whatever namespace (compared lowercased). */
const EMBEDDING = new Set([
  'iframe',
  'embed',
  'object',
  'frame',
  'frameset',
  'applet',
  'audio',
  'video',
  'portal',
  'handler',
  'listener',
]);
/** SMIL: every animation element is refused, whatever it targets (see the README). */
const ANIMATION = new Set([
  'set',
  'animate',
  'animateTransform',
  'animateMotion',
  'animateColor',
  'mpath',
  'discard',
]);
/** Where character data may be marked as CDATA: in CSS and in text. */
const CDATA_PARENTS = new Set(['style', 'text', 'tspan', 'textPath', 'title', 'desc']);
/** Schemes that run script or open a document, for a more precise problem name. */
const SCRIPT_URL =
  /^(?:javascript|vbscript|livescript):|^data:(?:text\/html|application\/(?:xhtml|ecmascript|javascript)|image\/svg)/i;

/**
 * Elements deeper than this are refused: saxes resolves each name by walking the open
 * elements, so depth costs time quadratically (libxml2 stops at 256 by default too).
 */
const MAX_DEPTH = 256;

/** Thrown from the parser's handlers to stop at the first problem. */
class Refusal extends Error {
  constructor(readonly problem: SvgProblem) {
    super(problem);
  }
}

/**
 * The first problem found in an SVG document, or `undefined` when it is safe to serve as an
 * image: well-formed UTF-8 XML without DOCTYPE, entities other than the predefined five and
 * character references, or processing instructions other than the XML declaration, whose
 * elements and attributes are all on the allow-list of static SVG, whose references are all
 * same-document `#fragment`s (and inline rasters in `<image>`), and whose CSS has no at-rule
 * and no function outside its allow-list.
 * @param bytes the whole document, UTF-8.
 */
export function findSvgProblem(bytes: Uint8Array): SvgProblem | undefined {
  const text = decodeUtf8(bytes);
  if (text === undefined) return 'encoding';
  try {
    parse(text);
    return undefined;
  } catch (error) {
    if (error instanceof Refusal) return error.problem;
    throw error;
  }
}

function parse(text: string): void {
  const parser = new SaxesParser({ xmlns: true, position: false });
  /** Local names of the open SVG elements (`''` for others), innermost last. */
  const open: string[] = [];
  let metadataDepth = 0;
  let css: string | undefined;
  const refuse = (problem: SvgProblem): never => {
    throw new Refusal(problem);
  };
  parser.on('error', (error) => refuse(/entity/i.test(error.message) ? 'entity' : 'malformed'));
  parser.on('xmldecl', ({ version, encoding }) => {
    // XML 1.1 (other characters, other line ends) is where parsers disagree most: 1.0 only.
    if (version !== '1.0') refuse('malformed');
    if (encoding !== undefined && !/^(?:utf-?8|us-ascii)$/i.test(encoding)) refuse('encoding');
  });
  parser.on('doctype', () => refuse('doctype'));
  parser.on('processinginstruction', () => refuse('processing-instruction'));
  parser.on('opentagstart', () => {
    if (open.length >= MAX_DEPTH) refuse('nesting');
  });
  parser.on('opentag', (tag) => {
    // A style sheet is text: an element inside one could hide part of it from this check.
    if (css !== undefined) refuse('element');
    const inMetadata = metadataDepth > 0;
    const svg = tag.uri === SVG_NS;
    const danger = activeElementProblem(tag);
    if (danger !== undefined) refuse(danger);
    // Attributes before the allow-list: `<a href="javascript:…">` is named for its URL.
    for (const attribute of Object.values(tag.attributes)) {
      const found = svg
        ? attributeProblem(tag.local, attribute.uri, attribute.local, attribute.value)
        : editorAttributeProblem(attribute.uri, attribute.local, attribute.value);
      if (found !== undefined) refuse(found);
    }
    const problem = elementProblem(tag, open.length === 0, inMetadata);
    if (problem !== undefined) refuse(problem);
    if (inMetadata || (svg && tag.local === 'metadata')) metadataDepth += 1;
    open.push(svg ? tag.local : '');
    if (svg && tag.local === 'style') css = '';
  });
  parser.on('text', (data) => {
    if (css !== undefined) css += data;
  });
  parser.on('cdata', (data) => {
    if (!CDATA_PARENTS.has(open.at(-1) ?? '')) refuse('cdata');
    if (css !== undefined) css += data;
  });
  parser.on('closetag', () => {
    if (metadataDepth > 0) metadataDepth -= 1;
    if (open.pop() === 'style' && css !== undefined) {
      const problem = findCssProblem(css);
      if (problem !== undefined) refuse(problem);
      css = undefined;
    }
  });
  parser.write(text).close();
}

/** Elements that run script, embed a document or change the drawing at run time. */
function activeElementProblem({ uri, local, attributes }: SaxesTagNS): SvgProblem | undefined {
  const lower = local.toLowerCase();
  if (lower === 'script') return 'script';
  if (lower === 'foreignobject') return 'foreign-object';
  if (EMBEDDING.has(lower)) return 'embedded-document';
  if (uri === SVG_NS && ANIMATION.has(local)) return animationProblem(attributes);
  return undefined;
}

function elementProblem(
  tag: SaxesTagNS,
  root: boolean,
  inMetadata: boolean,
): SvgProblem | undefined {
  const { uri, local } = tag;
  if (root && !(uri === SVG_NS && local === 'svg')) return uri === SVG_NS ? 'element' : 'namespace';
  if (uri === SVG_NS) {
    if (local === 'a') return 'link';
    return isSvgElement(uri, local) ? undefined : 'element';
  }
  return isEditorElement(uri, local, inMetadata) ? undefined : 'namespace';
}

/** Names the worst case: an animation retargeting a link or a handler. */
function animationProblem(attributes: SaxesTagNS['attributes']): SvgProblem {
  const target = Object.values(attributes).find(
    (attribute) => attribute.uri === '' && attribute.local === 'attributeName',
  );
  const name = target?.value.trim().toLowerCase() ?? '';
  if (/(?:^|:)(?:href|src)$/.test(name)) return 'href-animation';
  return /^on/.test(name) ? 'event-handler' : 'animation';
}

function attributeProblem(
  element: string,
  uri: string,
  local: string,
  value: string,
): SvgProblem | undefined {
  const common = commonAttributeProblem(uri, local);
  if (common !== undefined) return common;
  switch (attributeKind(uri, local)) {
    case 'refused':
      return 'attribute';
    case 'href':
      if (isFragmentReference(value)) return undefined;
      if (element === 'image' && isRasterDataUrl(value)) return undefined;
      return urlProblem(value);
    case 'css':
      return findCssProblem(value);
    default:
      return undefined;
  }
}

/** Editors' elements do nothing in a browser; only the rules for every element apply. */
function editorAttributeProblem(uri: string, local: string, value: string): SvgProblem | undefined {
  const common = commonAttributeProblem(uri, local);
  if (common !== undefined) return common;
  if (uri === XLINK_NS || (uri === '' && local === 'href')) {
    return isFragmentReference(value) ? undefined : urlProblem(value);
  }
  return uri === '' && local === 'style' ? findCssProblem(value) : undefined;
}

/** `on…` handlers in any namespace and case, and `xml:base`, which moves every reference. */
function commonAttributeProblem(uri: string, local: string): SvgProblem | undefined {
  if (uri === XMLNS_NS) return undefined;
  if (/^on/i.test(local)) return 'event-handler';
  if (uri === XML_NS && local === 'base') return 'external-reference';
  return undefined;
}

function urlProblem(url: string): SvgProblem {
  // URL parsers drop tabs and newlines anywhere, and controls and spaces at the ends.
  // eslint-disable-next-line no-control-regex -- controls are exactly what must go
  const squeezed = url.replace(/[\u0000-\u0020]+/g, '');
  return SCRIPT_URL.test(squeezed) ? 'javascript-url' : 'external-reference';
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
