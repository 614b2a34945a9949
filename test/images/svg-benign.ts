/**
 * Benign SVGs in the shapes real files take: icon sets (Material, Feather, Bootstrap,
 * Heroicons-like), exporters (Illustrator, Inkscape, Sketch) and hand-made drawings with
 * gradients, sprites, text, clip paths, masks, markers, patterns and filters. Each is accepted.
 */
import { SVG_NS, XLINK_NS } from './svg-evasions.js';

export interface BenignSvg {
  name: string;
  svg: string;
}

const PNG_2X2 =
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEklEQVQImWMwXlVuvKqcAUIBACQuBVGcWysNAAAAAElFTkSuQmCC';
const INKSCAPE_NS = 'http://www.inkscape.org/namespaces/inkscape';
const SODIPODI_NS = 'http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd';

export const BENIGN: readonly BenignSvg[] = [
  {
    name: 'Material-style icon',
    svg: `<svg xmlns="${SVG_NS}" height="24" viewBox="0 0 24 24" width="24"><path d="M0 0h24v24H0z" fill="none"/><path d="M12 21.35l-1.45-1.32C5.4 15.36 2 12.28 2 8.5 2 5.42 4.42 3 7.5 3c1.74 0 3.41.81 4.5 2.09C13.09 3.81 14.76 3 16.5 3 19.58 3 22 5.42 22 8.5c0 3.78-3.4 6.86-8.55 11.54L12 21.35z"/></svg>`,
  },
  {
    name: 'Feather-style stroked icon',
    svg: `<svg xmlns="${SVG_NS}" width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" class="feather feather-clock"><circle cx="12" cy="12" r="10"></circle><polyline points="12 6 12 12 16 14"></polyline><line x1="12" y1="2" x2="12" y2="4"/></svg>`,
  },
  {
    name: 'Bootstrap-style icon with fill-rule',
    svg: `<svg xmlns="${SVG_NS}" width="16" height="16" fill="currentColor" class="bi bi-house" viewBox="0 0 16 16" role="img" aria-label="Home"><path fill-rule="evenodd" d="M2 13.5V7h1v6.5a.5.5 0 0 0 .5.5h9a.5.5 0 0 0 .5-.5V7h1v6.5a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 13.5z"/><path fill-rule="evenodd" d="M7.293 1.5a1 1 0 0 1 1.414 0l6.647 6.646a.5.5 0 0 1-.708.708L8 2.207 1.354 8.854a.5.5 0 1 1-.708-.708L7.293 1.5z"/></svg>`,
  },
  {
    name: 'Heroicons-style outline with aria-hidden',
    svg: `<svg xmlns="${SVG_NS}" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" aria-hidden="true" focusable="false" data-slot="icon" width="24" height="24"><path stroke-linecap="round" stroke-linejoin="round" d="m4.5 12.75 6 6 9-13.5"/></svg>`,
  },
  {
    name: 'Illustrator export with CDATA style classes',
    svg: `<?xml version="1.0" encoding="utf-8"?>
<!-- Generator: Adobe Illustrator 27.0.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  -->
<svg version="1.1" id="Layer_1" xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" x="0px" y="0px" width="64px" height="64px" viewBox="0 0 64 64" style="enable-background:new 0 0 64 64;" xml:space="preserve">
<style type="text/css"><![CDATA[
	.st0{fill:#E44D26;}
	.st1{fill:#F16529;}
	.st2{fill:#FFFFFF;stroke:#EBEBEB;stroke-miterlimit:10;}
]]></style>
<g data-name="shield">
	<polygon class="st0" points="8,4 56,4 52,56 32,62 12,56 "/>
	<polygon class="st1" points="32,8 52,8 49,53 32,58 "/>
	<path class="st2" d="M20,16h24l-1,8H28l1,6h13l-2,16l-8,3l-8-3l-1-7h6l1,3l3,1l3-1l1-6H22L20,16z"/>
</g>
</svg>`,
  },
  {
    name: 'logo with a linear gradient fill',
    svg: `<svg xmlns="${SVG_NS}" viewBox="0 0 100 100" width="100" height="100"><defs><linearGradient id="grad" x1="0%" y1="0%" x2="100%" y2="100%" gradientTransform="rotate(15)"><stop offset="0%" stop-color="#ff7e5f"/><stop offset="100%" stop-color="#feb47b" stop-opacity="0.8"/></linearGradient></defs><rect x="5" y="5" width="90" height="90" rx="18" fill="url(#grad)"/><circle cx="50" cy="50" r="20" fill="#fff" fill-opacity=".9"/></svg>`,
  },
  {
    name: 'radial gradient inheriting stops by xlink:href',
    svg: `<svg xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" width="80" height="80" viewBox="0 0 80 80"><defs><linearGradient id="base"><stop offset="0" stop-color="#1e3c72"/><stop offset="1" stop-color="#2a5298"/></linearGradient><radialGradient id="glow" xlink:href="#base" cx="40" cy="40" r="40" fx="30" fy="30" gradientUnits="userSpaceOnUse"/></defs><circle cx="40" cy="40" r="38" fill="url(#glow)" stroke="url('#base')" stroke-width="2"/></svg>`,
  },
  {
    name: 'symbol sprite used by href and xlink:href',
    svg: `<svg xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" width="72" height="24" viewBox="0 0 72 24"><defs><symbol id="icon-star" viewBox="0 0 24 24"><title>star</title><path d="M12 2l3.09 6.26L22 9.27l-5 4.87 1.18 6.88L12 17.77l-6.18 3.25L7 14.14 2 9.27l6.91-1.01L12 2z"/></symbol></defs><use href="#icon-star" x="0" width="24" height="24" fill="gold"/><use xlink:href="#icon-star" x="24" width="24" height="24" fill="orange"/><use href="#icon-star" x="48" width="24" height="24" style="fill: rgb(200, 40, 40)"/></svg>`,
  },
  {
    name: 'badge with text and tspans',
    svg: `<svg xmlns="${SVG_NS}" width="110" height="20" role="img" aria-label="build: passing"><title>build: passing</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="110" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="37" height="20" fill="#555"/><rect x="37" width="73" height="20" fill="#4c1"/><rect width="110" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="18.5" y="14">build</text><text x="72.5" y="14"><tspan font-weight="bold">pass</tspan><tspan dx="1">ing</tspan></text></g></svg>`,
  },
  {
    name: 'avatar clipped to a circle',
    svg: `<svg xmlns="${SVG_NS}" width="64" height="64" viewBox="0 0 64 64"><defs><clipPath id="round" clipPathUnits="userSpaceOnUse"><circle cx="32" cy="32" r="30"/></clipPath></defs><g clip-path="url(#round)"><rect width="64" height="64" fill="#8fb3ff"/><circle cx="32" cy="26" r="12" fill="#f2d0b1"/><ellipse cx="32" cy="60" rx="22" ry="16" fill="#3b5998"/></g></svg>`,
  },
  {
    name: 'fade-out mask',
    svg: `<svg xmlns="${SVG_NS}" width="120" height="40" viewBox="0 0 120 40"><defs><linearGradient id="fade"><stop offset="0" stop-color="white"/><stop offset="1" stop-color="black"/></linearGradient><mask id="m" maskUnits="userSpaceOnUse" x="0" y="0" width="120" height="40" style="mask-type: luminance"><rect width="120" height="40" fill="url(#fade)"/></mask></defs><rect width="120" height="40" fill="#0a84ff" mask="url(#m)"/></svg>`,
  },
  {
    name: 'card with a drop shadow filter (blur, offset, merge)',
    svg: `<svg xmlns="${SVG_NS}" width="140" height="100" viewBox="0 0 140 100"><defs><filter id="shadow" x="-20%" y="-20%" width="140%" height="140%" filterUnits="objectBoundingBox" color-interpolation-filters="sRGB"><feGaussianBlur in="SourceAlpha" stdDeviation="3" result="blur"/><feOffset in="blur" dx="2" dy="4" result="offset"/><feComponentTransfer><feFuncA type="linear" slope="0.4"/></feComponentTransfer><feMerge><feMergeNode/><feMergeNode in="SourceGraphic"/></feMerge></filter></defs><rect x="15" y="10" width="110" height="70" rx="8" fill="#fff" filter="url(#shadow)"/></svg>`,
  },
  {
    name: 'feDropShadow and flood colour',
    svg: `<svg xmlns="${SVG_NS}" width="60" height="60"><filter id="d"><feDropShadow dx="1" dy="2" stdDeviation="1.5" flood-color="hsl(220, 60%, 20%)" flood-opacity="0.5"/></filter><circle cx="30" cy="30" r="20" fill="#fc0" filter="url(#d)"/></svg>`,
  },
  {
    name: 'style element with classes, variables and calc()',
    svg: `<svg xmlns="${SVG_NS}" width="100" height="50" viewBox="0 0 100 50"><style>
  :root { --accent: #e91e63; }
  .bar { fill: var(--accent); stroke: rgba(0, 0, 0, 0.3); stroke-width: calc(1px + 0.5px); }
  .bar:hover, .bar.active { fill: hsla(200, 80%, 50%, 1); }
  #label { font: italic 10px sans-serif; fill: #333 !important; }
</style><rect class="bar" x="5" y="10" width="20" height="35"/><rect class="bar active" x="30" y="20" width="20" height="25"/><text id="label" x="60" y="30">Q1</text></svg>`,
  },
  {
    name: 'Inkscape drawing with namedview and RDF metadata',
    svg: `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) -->
<svg width="50mm" height="30mm" viewBox="0 0 50 30" version="1.1" id="svg5" inkscape:version="1.2.2 (b0a8486541, 2022-12-01)" sodipodi:docname="drawing.svg" xmlns:inkscape="${INKSCAPE_NS}" xmlns:sodipodi="${SODIPODI_NS}" xmlns="${SVG_NS}" xmlns:svg="${SVG_NS}" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <sodipodi:namedview id="namedview7" pagecolor="#ffffff" bordercolor="#666666" borderopacity="1.0" inkscape:showpageshadow="2" inkscape:pageopacity="0.0" inkscape:document-units="mm" showgrid="false" inkscape:zoom="2.1" inkscape:current-layer="layer1"/>
  <defs id="defs2"/>
  <metadata id="metadata1"><rdf:RDF><cc:Work rdf:about=""><dc:format>image/svg+xml</dc:format><dc:type rdf:resource="http://purl.org/dc/dcmitype/StillImage"/><dc:title>Boat</dc:title></cc:Work></rdf:RDF></metadata>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <path style="fill:#1a5fb4;stroke:#000000;stroke-width:0.5;stroke-opacity:1" d="M 5,20 H 45 L 38,27 H 12 Z" id="path1" sodipodi:nodetypes="ccccc"/>
    <svg:path style="fill:#f6d32d" d="m 24,3 v 15 h -12 z" id="path2"/>
  </g>
</svg>`,
  },
  {
    name: 'Sketch export with title, desc and sketch:type',
    svg: `<?xml version="1.0" encoding="UTF-8"?>
<svg width="32px" height="32px" viewBox="0 0 32 32" version="1.1" xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" xmlns:sketch="http://www.bohemiancoding.com/sketch/ns">
    <!-- Generator: Sketch 3.0.3 (7891) - http://www.bohemiancoding.com/sketch -->
    <title>check</title>
    <desc>Created with Sketch.</desc>
    <defs></defs>
    <g id="Page-1" stroke="none" stroke-width="1" fill="none" fill-rule="evenodd" sketch:type="MSPage">
        <g id="check" sketch:type="MSArtboardGroup" fill="#27AE60">
            <path d="M12,21.2 L6.8,16 L5,17.8 L12,24.8 L27,9.8 L25.2,8 L12,21.2 Z" id="Shape" sketch:type="MSShapeGroup"></path>
        </g>
    </g>
</svg>`,
  },
  {
    name: 'checkerboard pattern fill',
    svg: `<svg xmlns="${SVG_NS}" width="80" height="80"><defs><pattern id="checks" x="0" y="0" width="20" height="20" patternUnits="userSpaceOnUse" patternTransform="rotate(10)"><rect width="10" height="10" fill="#ccc"/><rect x="10" y="10" width="10" height="10" fill="#ccc"/></pattern></defs><rect width="80" height="80" fill="url(#checks)" stroke="#999"/></svg>`,
  },
  {
    name: 'flow diagram with arrow markers',
    svg: `<svg xmlns="${SVG_NS}" width="200" height="60" viewBox="0 0 200 60"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse" markerUnits="strokeWidth"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs><rect x="5" y="15" width="50" height="30" rx="4" fill="#e3f2fd" stroke="#1565c0"/><rect x="145" y="15" width="50" height="30" rx="4" fill="#e8f5e9" stroke="#2e7d32"/><line x1="55" y1="30" x2="143" y2="30" stroke="#444" stroke-width="2" stroke-dasharray="4 2" marker-end="url(#arrow)"/><text x="100" y="24" font-size="9" text-anchor="middle">sends</text></svg>`,
  },
  {
    name: 'photo frame with an inline PNG',
    svg: `<svg xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" width="40" height="40"><rect width="40" height="40" fill="#222"/><image x="4" y="4" width="32" height="32" preserveAspectRatio="xMidYMid slice" image-rendering="pixelated" xlink:href="data:image/png;base64,${PNG_2X2}"/></svg>`,
  },
  {
    name: 'paper texture with turbulence and displacement',
    svg: `<svg xmlns="${SVG_NS}" width="100" height="100"><filter id="paper" x="0" y="0" width="100%" height="100%"><feTurbulence type="fractalNoise" baseFrequency="0.04" numOctaves="3" seed="7" stitchTiles="stitch" result="noise"/><feDisplacementMap in="SourceGraphic" in2="noise" scale="4" xChannelSelector="R" yChannelSelector="G"/><feColorMatrix type="saturate" values="0.3"/></filter><rect width="100" height="100" fill="#f5e6c8" filter="url(#paper)"/></svg>`,
  },
  {
    name: 'transforms in attributes and in style',
    svg: `<svg xmlns="${SVG_NS}" width="100" height="100" viewBox="-50 -50 100 100"><g transform="matrix(1 0 0 1 0 0) rotate(15) scale(0.9)"><rect x="-20" y="-20" width="40" height="40" fill="teal" style="transform: rotate(45deg) translate(2px, 3px); transform-origin: center"/><circle r="5" fill="white" transform="translate(10,10) skewX(10)"/></g></svg>`,
  },
  {
    name: 'bar chart with polylines and labels',
    svg: `<svg xmlns="${SVG_NS}" width="160" height="100" viewBox="0 0 160 100" font-family="Helvetica, Arial" font-size="8"><g fill="steelblue"><rect x="10" y="40" width="20" height="50"/><rect x="40" y="20" width="20" height="70"/><rect x="70" y="60" width="20" height="30"/></g><polyline points="20,35 50,15 80,55 110,45" fill="none" stroke="tomato" stroke-width="1.5"/><polygon points="110,45 106,41 114,41" fill="tomato"/><line x1="5" y1="90" x2="155" y2="90" stroke="#333"/><text x="20" y="98" text-anchor="middle">Jan</text><text x="50" y="98" text-anchor="middle">Feb</text></svg>`,
  },
  {
    name: 'text on a curved path',
    svg: `<svg xmlns="${SVG_NS}" width="200" height="80" viewBox="0 0 200 80"><path id="curve" d="M10,70 Q100,0 190,70" fill="none" stroke="#ddd"/><text font-size="14" letter-spacing="1"><textPath href="#curve" startOffset="50%" text-anchor="middle">Hello, world</textPath></text></svg>`,
  },
  {
    name: 'feImage of a shape in the same document',
    svg: `<svg xmlns="${SVG_NS}" width="60" height="60"><defs><circle id="dot" cx="10" cy="10" r="8" fill="navy"/><filter id="tile"><feImage href="#dot" x="0" y="0" width="20" height="20" result="img"/><feTile in="img"/></filter></defs><rect width="60" height="60" filter="url(#tile)"/></svg>`,
  },
  {
    name: 'switch by language, nested svg and title',
    svg: `<svg xmlns="${SVG_NS}" width="120" height="40" xml:lang="en"><title>Greeting</title><desc>Says hello in the reader's language</desc><switch><text x="5" y="25" systemLanguage="fr">Bonjour</text><text x="5" y="25">Hello</text></switch><svg x="90" y="5" width="30" height="30" viewBox="0 0 10 10" preserveAspectRatio="xMidYMid meet"><circle cx="5" cy="5" r="4" fill="#4caf50"/></svg></svg>`,
  },
  {
    name: 'lighting filter (specular, point light)',
    svg: `<svg xmlns="${SVG_NS}" width="80" height="80"><filter id="l"><feSpecularLighting surfaceScale="5" specularConstant="1" specularExponent="20" lighting-color="#bbbbbb" result="spec"><fePointLight x="40" y="10" z="60"/></feSpecularLighting><feComposite in="SourceGraphic" in2="spec" operator="arithmetic" k1="0" k2="1" k3="1" k4="0"/></filter><circle cx="40" cy="40" r="30" fill="#c62828" filter="url(#l)"/></svg>`,
  },
];
