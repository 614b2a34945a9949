/**
 * The fuzzer's SVG mutations: text-level changes an attacker makes to slip past a checker —
 * names in other cases, prefixes (non-ASCII among them) bound to other namespaces, character
 * references and CSS escapes, namespace URIs swapped, dangerous names and snippets put in.
 */
import type { Random } from './random.js';

const NAMESPACES = [
  'http://www.w3.org/2000/svg',
  'http://www.w3.org/1999/xhtml',
  'http://www.w3.org/1999/xlink',
  'http://www.w3.org/XML/1998/namespace',
  'http://www.w3.org/2000/svg/',
  'urn:x',
];
const PREFIXES = ['s', 'svg', 'xlink', 'h', 'ſ', 'Ǳx', 'ʜ', 'K'];
const ELEMENTS = [
  'script',
  'a',
  'foreignObject',
  'set',
  'animate',
  'use',
  'image',
  'style',
  'feImage',
  'iframe',
  'handler',
];
const ATTRIBUTES = [
  'href',
  'xlink:href',
  'onload',
  'onclick',
  'onbegin',
  'style',
  'xml:base',
  'fill',
  'attributeName',
  'filter',
  'to',
  'values',
];
const VALUES = [
  'javascript:window.__pwned=1',
  'http://evil.test/x.png',
  '//evil.test/x.svg#a',
  'url(http://evil.test/p)',
  'url(#a)',
  '#a',
  'href',
  'window.__pwned=1',
  'data:image/svg+xml,%3Csvg%20xmlns=%22http://www.w3.org/2000/svg%22%20onload=%22window.__pwned=1%22/%3E',
];
const SNIPPETS = [
  '<script>window.__pwned=1</script>',
  '<image href="http://evil.test/i.png" width="5" height="5"/>',
  '<style>@import "http://evil.test/x.css";</style>',
  '<style>rect{fill:url(http://evil.test/p)}</style>',
  '<set attributeName="href" to="javascript:window.__pwned=1"/>',
  '<use href="http://evil.test/s.svg#a"/>',
  '<a href="javascript:window.__pwned=1"><rect width="40" height="40"/></a>',
  '<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="window.__pwned=1"/></body></foreignObject>',
  '<rect width="40" height="40" style="fill:\\75 rl(http://evil.test/p)"/>',
];

/** One to three seeded mutations of an SVG's text. */
export function mutateSvg(text: string, rng: Random): string {
  let out = text;
  for (let i = 1 + rng.int(3); i > 0; i -= 1) out = mutateOnce(out, rng);
  return out;
}

function mutateOnce(text: string, rng: Random): string {
  switch (rng.int(10)) {
    case 0:
      return replaceOne(text, /<\/?[A-Za-z][\w:.-]*|\s[A-Za-z][\w:.-]*=/g, rng, randomCase(rng));
    case 1: {
      // An element renamed behind a prefix declared on the root.
      const name = pickMatch(text, /<([A-Za-z][\w.-]*)[\s/>]/g, rng);
      if (name === undefined) return text;
      const prefix = rng.pick(PREFIXES)!;
      const declared = declare(text, prefix, rng.pick(NAMESPACES)!);
      return declared
        .replaceAll(`<${name}`, `<${prefix}:${name}`)
        .replaceAll(`</${name}>`, `</${prefix}:${name}>`);
    }
    case 2: {
      const prefix = rng.pick(PREFIXES)!;
      return replaceOne(
        declare(text, prefix, rng.pick(NAMESPACES)!),
        /\s([A-Za-z][\w.-]*)=/g,
        rng,
        (m) => m.replace(/\s/, ` ${prefix}:`),
      );
    }
    case 3:
      // A character in an attribute value as a character reference.
      return replaceOne(text, /="[^"&<]+"/g, rng, (m) => {
        const at = 2 + rng.int(m.length - 3);
        const code = m.codePointAt(at)!;
        const ref = rng.int(2) === 0 ? `&#${code};` : `&#x${code.toString(16)};`;
        return `${m.slice(0, at)}${ref}${m.slice(at + 1)}`;
      });
    case 4:
      // A letter of CSS (a style attribute or element) as a CSS escape.
      return replaceOne(text, /style="[^"]+"|<style>[^<]+/g, rng, (m) =>
        m.replace(/[a-z](?=[a-z]*\()|@[a-z]/i, (letter) => {
          const c = letter.at(-1)!;
          return `${letter.length === 2 ? '@' : ''}\\${c.charCodeAt(0).toString(16)} `;
        }),
      );
    case 5:
      return replaceOne(
        text,
        /"http:\/\/www\.w3\.org\/[^"]+"/g,
        rng,
        () => `"${rng.pick(NAMESPACES)!}"`,
      );
    case 6: {
      const at = text.indexOf('>', rng.int(text.length));
      if (at < 0) return text;
      return `${text.slice(0, at + 1)}${rng.pick(SNIPPETS)!}${text.slice(at + 1)}`;
    }
    case 7:
      return replaceOne(text, /<\/?([A-Za-z][\w.-]*)/g, rng, (m) =>
        m.replace(/[A-Za-z][\w.-]*/, rng.pick(ELEMENTS)!),
      );
    case 8:
      return replaceOne(
        text,
        /\s[A-Za-z][\w:.-]*="[^"]*"/g,
        rng,
        () => ` ${rng.pick(ATTRIBUTES)!}="${rng.pick(VALUES)!}"`,
      );
    default: {
      const at = rng.int(text.length);
      return `${text.slice(0, at)}${text.slice(at + 1 + rng.int(8))}`;
    }
  }
}

function randomCase(rng: Random): (match: string) => string {
  return (match) =>
    [...match].map((c) => (rng.int(2) === 0 ? c.toUpperCase() : c.toLowerCase())).join('');
}

/** Declares `prefix` on the root element (a second declaration makes the file malformed). */
function declare(text: string, prefix: string, uri: string): string {
  return text.replace(/<svg(?=[\s>])/, `<svg xmlns:${prefix}="${uri}"`);
}

function replaceOne(
  text: string,
  pattern: RegExp,
  rng: Random,
  replace: (match: string) => string,
): string {
  const matches = [...text.matchAll(pattern)];
  const match = rng.pick(matches);
  if (match === undefined) return text;
  return `${text.slice(0, match.index)}${replace(match[0])}${text.slice(match.index + match[0].length)}`;
}

function pickMatch(text: string, pattern: RegExp, rng: Random): string | undefined {
  return rng.pick([...text.matchAll(pattern)])?.[1];
}
