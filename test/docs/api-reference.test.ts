/**
 * The API reference (`npm run docs`, TypeDoc) builds from the TSDoc of the entry points
 * without a warning: typedoc.json treats warnings as errors, so a broken `{@link}` or a
 * malformed tag fails here. `--emit none` checks without writing the HTML.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('the API reference', () => {
  it('builds from the entry points without warnings', { timeout: 240_000 }, async () => {
    const typedoc = join(ROOT, 'node_modules/typedoc/bin/typedoc');
    const { stdout, stderr } = await run(
      process.execPath,
      [typedoc, '--emit', 'none', '--logLevel', 'Warn'],
      { cwd: ROOT },
    ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`typedoc failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
    });
    expect(`${stdout}${stderr}`).not.toMatch(/warning|error/i);
  });
});
