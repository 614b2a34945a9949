/**
 * The package exports what the README documents: every name an entry point exports at run time
 * appears in the README's code, and the Install section names every peer dependency (the
 * required ones in its `npm install` line, each optional one with what it is for).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const README = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
const PKG = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** Every identifier the README's code shows: its inline code spans and its code blocks. */
function namesInCode(markdown: string): Set<string> {
  const blocks = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
  const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return new Set([...blocks, ...spans].flatMap((code) => code.match(/[A-Za-z_$][\w$]*/g) ?? []));
}

const ENTRIES: Record<string, () => Promise<object>> = {
  '.': () => import('../../src/index.js'),
  './s3': () => import('../../src/s3.js'),
  './testing': () => import('../../src/testing.js'),
  './jobs': () => import('../../src/jobs.js'),
  './browser': () => import('../../src/browser.js'),
};

describe('what the package exports, the README documents', () => {
  const documented = namesInCode(README);

  it('covers every entry point of the exports map', () => {
    const subpaths = Object.keys(PKG.exports).filter((subpath) => subpath !== './package.json');
    expect(Object.keys(ENTRIES).sort()).toEqual(subpaths.sort());
  });

  it.each(Object.keys(ENTRIES))('names every run-time export of %s in its code', async (entry) => {
    const names = Object.keys(await ENTRIES[entry]!());
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('catches a name the README does not show', () => {
    expect(documented.has('attachImage')).toBe(true);
    expect(documented.has('pushStoreContext')).toBe(false);
  });
});

describe("the README's Install section", () => {
  const start = README.indexOf('\n## Install\n');
  const section = README.slice(start, README.indexOf('\n## ', start + 1));
  const optional = Object.keys(PKG.peerDependenciesMeta).filter(
    (name) => PKG.peerDependenciesMeta[name]!.optional === true,
  );

  it('installs every required peer dependency in its command', () => {
    const command = /^npm install (.+)$/m.exec(section)?.[1]?.split(' ') ?? [];
    expect(command).toContain('sequelize-imageattach');
    const required = Object.keys(PKG.peerDependencies).filter((name) => !optional.includes(name));
    expect(required.length).toBeGreaterThan(0);
    for (const name of required) expect(command, name).toContain(name);
  });

  it('lists every optional peer dependency in its table', () => {
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    expect(optional.length).toBeGreaterThan(3);
    for (const name of optional) {
      expect(
        rows.some((row) => row.split('|')[1]!.includes(`\`${name}\``)),
        name,
      ).toBe(true);
    }
  });
});
