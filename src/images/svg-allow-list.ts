/**
 * What a static SVG may contain: elements and attributes by namespace URI and local name,
 * never by prefix. Anything not listed here is refused by the safety check.
 */

export const SVG_NS = 'http://www.w3.org/2000/svg';
export const XLINK_NS = 'http://www.w3.org/1999/xlink';
export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** Editors' namespaces: browsers give their elements and attributes no behaviour at all. */
const RDF_NS = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const CC_NS = 'http://creativecommons.org/ns#';
const DC_NS = 'http://purl.org/dc/elements/1.1/';
const DCTERMS_NS = 'http://purl.org/dc/terms/';
const SODIPODI_NS = 'http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd';
const INKSCAPE_NS = 'http://www.inkscape.org/namespaces/inkscape';
const SKETCH_NS = 'http://www.bohemiancoding.com/sketch/ns';

/** The SVG elements of a static drawing. `a`, `script`, `foreignObject` and animation are not. */
const SVG_ELEMENTS = new Set([
  // structure
  'svg',
  'g',
  'defs',
  'symbol',
  'use',
  'switch',
  'title',
  'desc',
  'metadata',
  'style',
  // shapes and text
  'path',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'text',
  'tspan',
  'textPath',
  'image',
  // paint servers, clipping, masking, markers
  'linearGradient',
  'radialGradient',
  'stop',
  'pattern',
  'clipPath',
  'mask',
  'marker',
  // filters
  'filter',
  'feBlend',
  'feColorMatrix',
  'feComponentTransfer',
  'feComposite',
  'feConvolveMatrix',
  'feDiffuseLighting',
  'feDisplacementMap',
  'feDistantLight',
  'feDropShadow',
  'feFlood',
  'feFuncA',
  'feFuncB',
  'feFuncG',
  'feFuncR',
  'feGaussianBlur',
  'feImage',
  'feMerge',
  'feMergeNode',
  'feMorphology',
  'feOffset',
  'fePointLight',
  'feSpecularLighting',
  'feSpotLight',
  'feTile',
  'feTurbulence',
]);

/** Elements of editors' metadata, allowed only inside `<metadata>` or as Inkscape's views. */
const METADATA_NAMESPACES = new Set([RDF_NS, CC_NS, DC_NS, DCTERMS_NS]);
const EDITOR_ELEMENTS = new Map([
  [SODIPODI_NS, new Set(['namedview', 'guide'])],
  [INKSCAPE_NS, new Set(['grid', 'page', 'perspective', 'path-effect', 'clipboard'])],
]);
/** Namespaces whose attributes are editor data (any local name but `on…`). */
const EDITOR_ATTRIBUTE_NAMESPACES = new Set([RDF_NS, SODIPODI_NS, INKSCAPE_NS, SKETCH_NS]);

/** Presentation attributes: CSS values, judged by the CSS check. */
export const PRESENTATION_ATTRIBUTES = new Set([
  'alignment-baseline',
  'baseline-shift',
  'clip',
  'clip-path',
  'clip-rule',
  'color',
  'color-interpolation',
  'color-interpolation-filters',
  'color-rendering',
  'cursor',
  'direction',
  'display',
  'dominant-baseline',
  'enable-background',
  'fill',
  'fill-opacity',
  'fill-rule',
  'filter',
  'flood-color',
  'flood-opacity',
  'font',
  'font-family',
  'font-size',
  'font-size-adjust',
  'font-stretch',
  'font-style',
  'font-variant',
  'font-weight',
  'glyph-orientation-horizontal',
  'glyph-orientation-vertical',
  'image-rendering',
  'kerning',
  'letter-spacing',
  'lighting-color',
  'marker',
  'marker-end',
  'marker-mid',
  'marker-start',
  'mask',
  'mask-type',
  'opacity',
  'overflow',
  'paint-order',
  'pointer-events',
  'shape-rendering',
  'stop-color',
  'stop-opacity',
  'stroke',
  'stroke-dasharray',
  'stroke-dashoffset',
  'stroke-linecap',
  'stroke-linejoin',
  'stroke-miterlimit',
  'stroke-opacity',
  'stroke-width',
  'text-anchor',
  'text-decoration',
  'text-rendering',
  'transform',
  'transform-origin',
  'unicode-bidi',
  'vector-effect',
  'visibility',
  'word-spacing',
  'writing-mode',
]);

/** Attributes without a namespace whose values are geometry, numbers or keywords. */
const PLAIN_ATTRIBUTES = new Set([
  'id',
  'class',
  'lang',
  'version',
  'baseProfile',
  'viewBox',
  'preserveAspectRatio',
  'x',
  'y',
  'width',
  'height',
  'rx',
  'ry',
  'cx',
  'cy',
  'r',
  'fx',
  'fy',
  'fr',
  'x1',
  'y1',
  'x2',
  'y2',
  'd',
  'points',
  'pathLength',
  'dx',
  'dy',
  'rotate',
  'textLength',
  'lengthAdjust',
  'startOffset',
  'method',
  'spacing',
  'side',
  'systemLanguage',
  'requiredFeatures',
  'gradientUnits',
  'gradientTransform',
  'spreadMethod',
  'offset',
  'patternUnits',
  'patternContentUnits',
  'patternTransform',
  'clipPathUnits',
  'maskUnits',
  'maskContentUnits',
  'markerUnits',
  'markerWidth',
  'markerHeight',
  'refX',
  'refY',
  'orient',
  'filterUnits',
  'primitiveUnits',
  'in',
  'in2',
  'result',
  'stdDeviation',
  'mode',
  'operator',
  'k1',
  'k2',
  'k3',
  'k4',
  'type',
  'values',
  'tableValues',
  'slope',
  'intercept',
  'amplitude',
  'exponent',
  'order',
  'kernelMatrix',
  'divisor',
  'bias',
  'targetX',
  'targetY',
  'edgeMode',
  'preserveAlpha',
  'kernelUnitLength',
  'surfaceScale',
  'diffuseConstant',
  'specularConstant',
  'specularExponent',
  'scale',
  'xChannelSelector',
  'yChannelSelector',
  'radius',
  'baseFrequency',
  'numOctaves',
  'seed',
  'stitchTiles',
  'azimuth',
  'elevation',
  'z',
  'pointsAtX',
  'pointsAtY',
  'pointsAtZ',
  'limitingConeAngle',
  'media',
]);

/** Accessibility and data attributes, which icon sets and exporters write: inert text. */
const INERT_ATTRIBUTE = /^(?:aria-[a-z]+|data-[a-z0-9_.-]+|role|focusable)$/;

/** How an attribute is judged, once its namespace URI and local name are known. */
export type AttributeKind = 'plain' | 'css' | 'href' | 'namespace' | 'editor' | 'refused';

export function attributeKind(uri: string, local: string): AttributeKind {
  if (uri === '') {
    if (local === 'href') return 'href';
    if (local === 'style' || PRESENTATION_ATTRIBUTES.has(local)) return 'css';
    return PLAIN_ATTRIBUTES.has(local) || INERT_ATTRIBUTE.test(local) ? 'plain' : 'refused';
  }
  if (uri === XLINK_NS) {
    if (local === 'href') return 'href';
    return local === 'title' ? 'plain' : 'refused';
  }
  if (uri === XML_NS) return local === 'lang' || local === 'space' ? 'plain' : 'refused';
  if (uri === XMLNS_NS) return 'namespace';
  if (EDITOR_ATTRIBUTE_NAMESPACES.has(uri)) return 'editor';
  return 'refused';
}

export function isSvgElement(uri: string, local: string): boolean {
  return uri === SVG_NS && SVG_ELEMENTS.has(local);
}

/** Elements of editors: RDF metadata (inside `<metadata>` only) and Inkscape's views. */
export function isEditorElement(uri: string, local: string, inMetadata: boolean): boolean {
  if (METADATA_NAMESPACES.has(uri)) return inMetadata;
  return EDITOR_ELEMENTS.get(uri)?.has(local) ?? false;
}
