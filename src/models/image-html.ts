/**
 * The HTML of images: `<img>` with its attributes escaped, the placeholder painted as its
 * background, and the options every `toHTML` takes, checked once.
 */
import { InvalidOptionError } from '../errors.js';
import { placeholderDataUrl } from '../images/placeholder.js';

/** The `<img>` attributes every `toHTML` takes. */
export interface ImgAttributeOptions {
  /** The `alt` text; `''` marks a decorative image. @default no `alt` attribute */
  alt?: string;
  /** `loading="lazy"` defers images outside the viewport. @default no `loading` attribute */
  loading?: 'lazy' | 'eager';
  /** `decoding="async"` decodes off the main thread. @default no `decoding` attribute */
  decoding?: 'async' | 'sync' | 'auto';
  /** `fetchpriority`, e.g. `'high'` for the page's main image. @default none */
  fetchpriority?: 'high' | 'low' | 'auto';
  /** The `class` attribute. @default none */
  class?: string;
  /**
   * Paint the original's ThumbHash (`imageAttributes({ placeholder: true })`) as the image's
   * background (a data URL) until its bytes arrive. Nothing when the row has none.
   * @default false
   */
  placeholder?: boolean;
  /**
   * Any other attributes, escaped: `true` writes the name alone, `false` leaves it out.
   * `src`, `srcset`, `sizes`, `width` and `height` are the library's.
   * @default {}
   */
  attributes?: Readonly<Record<string, string | number | boolean>>;
}

/** What an `<img>` is made of: its source, its size, and the srcset of a set. */
export interface ImgParts {
  src: string;
  width: number;
  height: number;
  srcset?: string;
  sizes?: string;
  /** The original's ThumbHash, base64. */
  placeholder?: string | null;
}

const LOADING = ['lazy', 'eager'];
const DECODING = ['async', 'sync', 'auto'];
const PRIORITY = ['high', 'low', 'auto'];
const OWN = new Set(['src', 'srcset', 'sizes', 'width', 'height']);
/** HTML's attribute names, less the characters that would end or break them. */
const ATTRIBUTE_NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*$/;

/** Checks the options once; `InvalidOptionError` naming the option. */
export function validateImgOptions(options: ImgAttributeOptions): void {
  const { alt, loading, decoding, fetchpriority, attributes, placeholder } = options;
  if (alt !== undefined && typeof alt !== 'string') {
    throw new InvalidOptionError('alt', 'must be a string');
  }
  if (options.class !== undefined && typeof options.class !== 'string') {
    throw new InvalidOptionError('class', 'must be a string');
  }
  oneOf('loading', loading, LOADING);
  oneOf('decoding', decoding, DECODING);
  oneOf('fetchpriority', fetchpriority, PRIORITY);
  if (placeholder !== undefined && typeof placeholder !== 'boolean') {
    throw new InvalidOptionError('placeholder', 'must be a boolean');
  }
  if (attributes === undefined) return;
  if (typeof attributes !== 'object' || attributes === null) {
    throw new InvalidOptionError('attributes', 'must be an object of attribute values');
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE_NAME.test(name) || OWN.has(name.toLowerCase())) {
      throw new InvalidOptionError(
        'attributes',
        `cannot set the attribute ${JSON.stringify(name)}`,
      );
    }
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new InvalidOptionError('attributes', `${name} must be a string, number or boolean`);
    }
  }
}

/** `<img src srcset sizes width height …>`, every value escaped. */
export function imgHTML(parts: ImgParts, options: ImgAttributeOptions): string {
  const pairs: Array<[string, string | number | boolean | undefined]> = [
    ['src', parts.src],
    ['srcset', parts.srcset],
    ['sizes', parts.srcset === undefined ? undefined : parts.sizes],
    ['width', parts.width],
    ['height', parts.height],
    ['alt', options.alt],
    ['class', options.class],
    ['loading', options.loading],
    ['decoding', options.decoding],
    ['fetchpriority', options.fetchpriority],
  ];
  const extra = { ...options.attributes };
  const background =
    options.placeholder === true && typeof parts.placeholder === 'string'
      ? placeholderDataUrl(parts.placeholder)
      : undefined;
  if (background !== undefined) {
    // Behind the image's own pixels: it shows until they are painted over it.
    const paint = `background-image:url("${background}");background-size:100% 100%;background-repeat:no-repeat`;
    const style = extra.style;
    extra.style = typeof style === 'string' && style !== '' ? `${paint};${style}` : paint;
  }
  pairs.push(...Object.entries(extra));
  return `<img${attributesHTML(pairs)}>`;
}

/** ` name="value"` for each pair with a value; `true` is the name alone. */
export function attributesHTML(
  pairs: ReadonlyArray<readonly [string, string | number | boolean | undefined]>,
): string {
  let html = '';
  for (const [name, value] of pairs) {
    if (value === undefined || value === false) continue;
    html += value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`;
  }
  return html;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function oneOf(name: string, value: unknown, allowed: readonly string[]): void {
  if (value !== undefined && (typeof value !== 'string' || !allowed.includes(value))) {
    throw new InvalidOptionError(name, `must be one of ${allowed.join(', ')}`);
  }
}
