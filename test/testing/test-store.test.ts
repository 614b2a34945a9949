/**
 * `sequelize-imageattach/testing`: the shipped MemoryStore and the README's custom-store recipe
 * pass the conformance suite, and the suite catches stores broken in each way its flags cover
 * (run in a child Vitest, whose failures are read from its JSON report).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/index.js';
import { MemoryStore, testStore } from '../../src/testing.js';
import { makeTempDir } from '../support/temp-dir.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MIB = 1024 * 1024;

testStore('MemoryStore', () => new MemoryStore(), {
  stat: true,
  list: true,
  largeFileSize: 8 * MIB,
});

/** The README's `MemoryStore` recipe, taken from the README itself and imported. */
async function readmeMemoryStore(): Promise<new () => Store> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .find((code) => code.includes('class MemoryStore extends Store'));
  if (block === undefined) throw new Error('the README has no MemoryStore recipe');
  await mkdir(join(ROOT, 'test-output'), { recursive: true });
  const file = join(ROOT, 'test-output', `readme-memory-store-${process.pid}.ts`);
  const index = pathToFileURL(join(ROOT, 'src/index.ts')).href;
  await writeFile(file, block.replaceAll("from 'sequelize-imageattach'", `from '${index}'`));
  try {
    const module = (await import(pathToFileURL(file).href)) as { MemoryStore: new () => Store };
    return module.MemoryStore;
  } finally {
    await rm(file, { force: true });
  }
}

const ReadmeMemoryStore = await readmeMemoryStore();
testStore('the README’s MemoryStore', () => new ReadmeMemoryStore(), { largeFileSize: 4 * MIB });

interface JsonReport {
  testResults: {
    assertionResults: { ancestorTitles: string[]; title: string; status: string }[];
  }[];
}

describe('testStore catches broken stores', () => {
  /** Suite name → titles of its failed tests. */
  const failed = new Map<string, string[]>();
  let passed = 0;

  beforeAll(async () => {
    const dir = await makeTempDir('broken-stores');
    try {
      const output = join(dir.path, 'report.json');
      const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs');
      const config = join(ROOT, 'test/testing/fixtures/vitest.config.ts');
      await promisify(execFile)(
        process.execPath,
        [vitest, 'run', '--config', config, '--reporter=json', `--outputFile=${output}`],
        { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      ).catch(() => undefined); // failures are the point; the report says which
      const report = JSON.parse(await readFile(output, 'utf8')) as JsonReport;
      for (const result of report.testResults.flatMap((file) => file.assertionResults)) {
        const suite = result.ancestorTitles[0]!.replace(/ \(Store conformance\)$/, '');
        if (!failed.has(suite)) failed.set(suite, []);
        if (result.status === 'failed') failed.get(suite)!.push(result.title);
        else if (result.status === 'passed') passed += 1;
      }
    } finally {
      await dir.remove();
    }
  }, 180_000);

  const LIST_TESTS = [
    'listFiles lists every stored file with its key, size and time',
    'listFiles with keyPrefix lists every file whose key starts with it',
    'listFiles no longer lists a deleted file',
    'deleteListedFile removes a listed file, and removing it again is no error',
  ];
  const STAT_TEST = 'statFile gives the size of a stored file, and undefined for a missing one';

  it('passes correct stores, with and without the optional methods', () => {
    expect(passed).toBeGreaterThan(100);
    expect(failed.get('control')).toEqual([]);
  });

  it('fails a store lacking what a flag asks for, in those tests only', () => {
    expect(failed.get('no listFiles')).toEqual(LIST_TESTS);
    expect(failed.get('no statFile')).toEqual([STAT_TEST]);
    expect(failed.get('no localPath')).toEqual([
      'localPath gives an absolute path holding the file’s bytes, without I/O',
    ]);
    expect(failed.get('memory URLs')).toEqual([
      'computes http(s) URLs synchronously, without the file having to exist',
    ]);
  });

  it('fails stores that break the contract of the primitives or the optional methods', () => {
    expect(failed.get('plain Error on missing')).toContain(
      'rejects getFile of a missing file with ImageNotFoundError (ENOENT)',
    );
    expect(failed.get('delete fails when gone')).toContain(
      'deletes a file, and deleting it again is no error',
    );
    expect(failed.get('wrong stat')).toEqual([STAT_TEST]);
    expect(failed.get('deletes nothing')).toContain('listFiles no longer lists a deleted file');
  });
});
