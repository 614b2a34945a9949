import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary folder and the function that removes it. */
export async function makeTempDir(
  label = 'imageattach',
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${label}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
