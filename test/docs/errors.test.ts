/**
 * The README's table of errors is the code's: every error class of src/errors.ts has a row
 * with its code and status, marked `.` exactly when `sequelize-imageattach` exports it.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import * as api from '../../src/index.js';
import * as s3 from '../../src/s3.js';

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('\n## Errors\n'), readme.indexOf('\n## Performance\n'));
const rows = new Map(
  [...section.matchAll(/^\| `(\w+)`( `\.`)? *\| `(\w+)` *\| (\d{3}) *\|/gm)].map((m) => [
    m[1]!,
    { exported: m[2] !== undefined, code: m[3]!, status: Number(m[4]) },
  ]),
);

/** An instance of each class, built with arguments any of its constructors accepts. */
function instanceOf(ErrorClass: ErrorClass) {
  for (const args of [
    [[], [], []],
    ['x', 'x', 'x'],
  ]) {
    try {
      return Reflect.construct(ErrorClass, args) as errors.ImageAttachError;
    } catch {
      // The next argument list fits.
    }
  }
  throw new Error(`cannot build ${ErrorClass.name}`);
}

type ErrorClass = new (...args: never[]) => errors.ImageAttachError;
const classes = (Object.entries(errors) as [string, unknown][]).filter(
  (entry): entry is [string, ErrorClass] =>
    entry[1] === errors.ImageAttachError ||
    (typeof entry[1] === 'function' && entry[1].prototype instanceof errors.ImageAttachError),
);

describe('the README table of errors', () => {
  it('has a row per error class, no more', () => {
    expect(classes.length).toBeGreaterThan(30);
    expect([...rows.keys()].sort()).toEqual(classes.map(([name]) => name).sort());
  });

  it.each(classes)('gives %s its code, status and entry point', (name, ErrorClass) => {
    const error = instanceOf(ErrorClass);
    expect(error).toBeInstanceOf(errors.ImageAttachError);
    expect(rows.get(name)).toEqual({
      exported: name in api,
      code: error.code,
      status: error.status,
    });
    expect(error.code === 'ENOENT' || error.code.startsWith('E_')).toBe(true);
  });

  it('has the classes of sequelize-imageattach/s3 as its text says: directUploads and StoreUnavailableError', () => {
    const fromS3 = Object.keys(s3).filter((name) => classes.some(([error]) => error === name));
    const directRows = [...section.matchAll(/^\| `(\w+)` +\|[^|]*\|[^|]*\| `directUploads`/gm)].map(
      (m) => m[1]!,
    );
    expect(directRows.length).toBeGreaterThan(3);
    expect(fromS3.sort()).toEqual([...directRows, 'StoreUnavailableError'].sort());
  });
});
