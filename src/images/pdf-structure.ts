/**
 * A PDF's cross-reference chain, checked before pdf.js sees the file. pdf.js repairs a broken
 * xref by scanning the whole file for objects ("Indexing all PDF objects") and renders whatever
 * it finds; a file whose table does not say where its objects are is refused instead, so what
 * is stored is a document every reader agrees on.
 */

/** Sections followed along `/Prev` before a chain counts as hostile. */
const MAX_SECTIONS = 64;
/** Bytes at the end searched for `startxref` (the spec asks for it in the last 1024). */
const TAIL = 1024;

/**
 * Why `bytes` is not a well-formed PDF, or `undefined` when its header, its `startxref` and each
 * cross-reference section along the `/Prev` chain are where they say, and every in-use entry of
 * a classic table points at the object it names. Cross-reference streams are checked to be
 * where `startxref` says; their entries are pdf.js's to read.
 */
export function findPdfStructureProblem(bytes: Buffer): string | undefined {
  if (!/^%PDF-[12]\.\d/.test(bytes.toString('latin1', 0, 8))) return 'no %PDF- header';
  const tail = bytes.toString('latin1', Math.max(0, bytes.length - TAIL));
  if (!tail.includes('%%EOF')) return 'no %%EOF marker';
  const match = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail.slice(tail.lastIndexOf('startxref')));
  if (match === null) return 'no startxref offset';
  const seen = new Set<number>();
  let offset: number | undefined = Number(match[1]);
  while (offset !== undefined) {
    if (seen.has(offset) || seen.size >= MAX_SECTIONS) return 'a loop in the xref chain';
    seen.add(offset);
    if (!Number.isSafeInteger(offset) || offset >= bytes.length)
      return 'an xref offset past the end';
    const section = checkSection(bytes, offset);
    if (typeof section === 'string') return section;
    offset = section.prev;
  }
  return undefined;
}

function checkSection(bytes: Buffer, offset: number): { prev?: number } | string {
  const head = bytes.toString('latin1', offset, offset + 64);
  if (head.startsWith('xref')) return checkTable(bytes, offset + 4);
  const object = /^(\d+)\s+(\d+)\s+obj\s*<</.exec(head);
  if (object === null) return 'startxref points at neither a table nor a stream';
  const dict = bytes.toString('latin1', offset, Math.min(bytes.length, offset + 4096));
  const end = dict.indexOf('stream');
  if (end < 0 || !/\/Type\s*\/XRef\b/.test(dict.slice(0, end))) {
    return 'startxref points at an object that is not an xref stream';
  }
  return { prev: prevOf(dict.slice(0, end)) };
}

/** A classic table: subsections of `first count` and 20-byte entries, then `trailer`. */
function checkTable(bytes: Buffer, start: number): { prev?: number } | string {
  const lines = /^[\r\n ]*/.exec(bytes.toString('latin1', start, start + 4))!;
  let at = start + lines[0].length;
  for (;;) {
    const peek = bytes.toString('latin1', at, at + 32);
    if (peek.startsWith('trailer')) break;
    const subsection = /^(\d+) (\d+)\s*?(\r\n|\r|\n| \r| \n)/.exec(peek);
    if (subsection === null) return 'a malformed xref subsection';
    const first = Number(subsection[1]);
    const count = Number(subsection[2]);
    at += subsection[0].length;
    if (at + count * 20 > bytes.length) return 'an xref table past the end';
    for (let i = 0; i < count; i += 1, at += 20) {
      const entry = /^(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)$/.exec(
        bytes.toString('latin1', at, at + 20),
      );
      if (entry === null) return 'a malformed xref entry';
      if (entry[3] === 'f') continue;
      const target = Number(entry[1]);
      const found = /^(\d+)\s+(\d+)\s+obj\b/.exec(bytes.toString('latin1', target, target + 32));
      if (
        found === null ||
        Number(found[1]) !== first + i ||
        Number(found[2]) !== Number(entry[2])
      ) {
        return `xref entry ${first + i} does not point at its object`;
      }
    }
    while (/[\r\n ]/.test(bytes.toString('latin1', at, at + 1))) at += 1;
  }
  const trailer = bytes.toString('latin1', at, Math.min(bytes.length, at + 4096));
  if (!/^trailer\s*<</.test(trailer)) return 'no trailer dictionary';
  return { prev: prevOf(trailer.slice(0, trailer.indexOf('>>') + 2 || undefined)) };
}

function prevOf(dictionary: string): number | undefined {
  const prev = /\/Prev\s+(\d+)/.exec(dictionary);
  return prev === null ? undefined : Number(prev[1]);
}
