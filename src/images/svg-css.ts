/**
 * CSS in an SVG (`<style>` text, `style` attributes, presentation attributes), judged on the
 * tokens of a CSS Syntax Level 3 tokenizer: names are decoded (`\75 rl(` is `url(`,
 * `@\69mport` is `@import`) before they are compared, so an escape cannot hide one.
 */
import {
  isTokenAtKeyword,
  isTokenBadString,
  isTokenBadURL,
  isTokenFunction,
  isTokenString,
  isTokenURL,
  isTokenWhiteSpaceOrComment,
  tokenize,
  type CSSToken,
} from '@csstools/css-tokenizer';
import { isFragmentReference } from './svg-urls.js';

/** Why a piece of CSS was refused. */
export type CssProblem = 'css-syntax' | 'css-at-rule' | 'css-function' | 'external-reference';

/**
 * Functions that compute colours, lengths and transforms: none loads anything. `url()` is
 * judged apart (same-document fragments only); `image-set()`, `image()`, `cross-fade()`,
 * `element()`, `expression()`, `attr()`, `env()`, `src()` and every other name are refused.
 */
const ALLOWED_FUNCTIONS = new Set([
  'rgb',
  'rgba',
  'hsl',
  'hsla',
  'calc',
  'min',
  'max',
  'clamp',
  'var',
  'matrix',
  'translate',
  'translatex',
  'translatey',
  'rotate',
  'scale',
  'scalex',
  'scaley',
  'skewx',
  'skewy',
]);

/**
 * The first problem in a piece of CSS, or `undefined`: no at-rule at all, no function outside
 * the allow-list, `url()` only to a `#fragment`, and nothing the tokenizer reports as malformed.
 */
export function findCssProblem(css: string): CssProblem | undefined {
  let malformed = false;
  const tokens = tokenize({ css }, { onParseError: () => (malformed = true) });
  if (malformed) return 'css-syntax';
  for (const [index, token] of tokens.entries()) {
    if (isTokenBadURL(token) || isTokenBadString(token)) return 'css-syntax';
    if (isTokenAtKeyword(token)) return 'css-at-rule';
    if (isTokenURL(token) && !isFragmentReference(token[4].value)) return 'external-reference';
    if (isTokenFunction(token)) {
      const name = asciiLowercase(token[4].value);
      if (name === 'url') {
        if (!isFragmentReference(quotedArgument(tokens, index + 1) ?? '')) {
          return 'external-reference';
        }
      } else if (!ALLOWED_FUNCTIONS.has(name)) {
        return 'css-function';
      }
    }
  }
  return undefined;
}

/** `url("#a")`: the one string argument of a quoted `url(`, if that is all it holds. */
function quotedArgument(tokens: readonly CSSToken[], start: number): string | undefined {
  // Only the next two tokens that are not white space or comments matter: a short scan, so a
  // sheet of many `url(`s stays linear.
  const [argument, close] = significant(tokens, start, 2);
  if (!isTokenString(argument) || close?.[1] !== ')') return undefined;
  return argument[4].value;
}

function significant(tokens: readonly CSSToken[], start: number, count: number): CSSToken[] {
  const found: CSSToken[] = [];
  for (let i = start; i < tokens.length && found.length < count; i += 1) {
    if (!isTokenWhiteSpaceOrComment(tokens[i])) found.push(tokens[i]!);
  }
  return found;
}

/** CSS compares names ASCII case-insensitively (`URL(` is `url(`, but `ſ` is not `s`). */
function asciiLowercase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}
