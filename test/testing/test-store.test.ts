/**
 * `sequelize-imageattach/testing`: the shipped MemoryStore and the README's custom-store recipe
 * pass the conformance suite, and the suite catches stores broken in each way its options cover
 * (run in a child Vitest, whose failures are read from its JSON report).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/index.js';
import { MemoryStore, testStore, type TestStoreCopyOptions } from '../../src/testing.js';
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

it('refuses options it cannot run, before registering any test', () => {
  const factory = () => new MemoryStore();
  expect(() => testStore('bad', factory, { largeFileSize: 1000 })).toThrow(RangeError);
  const copy = { place: 'a folder' } as unknown as TestStoreCopyOptions;
  expect(() => testStore('bad', factory, { copy })).toThrow(TypeError);
});

const ReadmeMemoryStore = await readmeMemoryStore();
testStore('the README’s MemoryStore', () => new ReadmeMemoryStore(), { largeFileSize: 4 * MIB });

interface JsonReport {
  testResults: {
    assertionResults: { ancestorTitles: string[]; title: string; status: string }[];
  }[];
}

describe('testStore catches broken stores', () => {
  /** Suite name → its tests' titles and statuses. */
  const suites = new Map<string, { title: string; status: string }[]>();
  /** The titles of a suite's tests of one status, in the order they ran. */
  const titles = (suite: string, status: string) =>
    suites
      .get(suite)
      ?.filter((test) => test.status === status)
      .map((test) => test.title);
  const failed = (suite: string) => titles(suite, 'failed');
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
        if (!suites.has(suite)) suites.set(suite, []);
        suites.get(suite)!.push({ title: result.title, status: result.status });
        if (result.status === 'passed') passed += 1;
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
  const COPY_TESTS = [
    'copyFile copies a placed source to the key, with its bytes and under that type only',
    'copyFile leaves the source as it was: it copies again, alike, through the copy helper',
    'copyFile replaces a file stored under the key',
    'copyFile of a missing source rejects with ImageNotFoundError (ENOENT) and stores nothing',
    'copyFile with an ifMatch that is not the source’s version rejects with StoreError and stores nothing',
  ] as const;
  const [COPIES, LEAVES_SOURCE, , MISSING_SOURCE, IF_MATCH] = COPY_TESTS;

  it('passes correct stores, with and without the optional methods', () => {
    expect(passed).toBeGreaterThan(100);
    expect(failed('control')).toEqual([]);
    expect(failed('copy control')).toEqual([]);
    expect(titles('copy control', 'passed')).toEqual(expect.arrayContaining([...COPY_TESTS]));
  });

  it('tests copyFile only with the copy option, and ifMatch only when place gives versions', () => {
    const ran = suites.get('control')!.map((test) => test.title);
    expect(ran.length).toBeGreaterThan(10);
    expect(ran.filter((title) => title.startsWith('copyFile'))).toEqual([]);
    expect(failed('copy without versions')).toEqual([]);
    expect(titles('copy without versions', 'skipped')).toEqual([IF_MATCH]);
  });

  it('fails a store lacking what a flag asks for, in those tests only', () => {
    expect(failed('no listFiles')).toEqual(LIST_TESTS);
    expect(failed('no statFile')).toEqual([STAT_TEST]);
    expect(failed('no localPath')).toEqual([
      'localPath gives an absolute path holding the file’s bytes, without I/O',
    ]);
    expect(failed('memory URLs')).toEqual([
      'computes http(s) URLs synchronously, without the file having to exist',
    ]);
    expect(failed('no copyFile')).toEqual(COPY_TESTS);
  });

  it('fails stores that break the contract of the primitives or the optional methods', () => {
    expect(failed('plain Error on missing')).toContain(
      'rejects getFile of a missing file with ImageNotFoundError (ENOENT)',
    );
    expect(failed('delete fails when gone')).toContain(
      'deletes a file, and deleting it again is no error',
    );
    expect(failed('wrong stat')).toEqual([STAT_TEST]);
    expect(failed('deletes nothing')).toContain('listFiles no longer lists a deleted file');
    expect(failed('copies wrong bytes')).toContain(COPIES);
    expect(failed('moves the source')).toEqual([LEAVES_SOURCE]);
    expect(failed('ignores ifMatch')).toEqual([IF_MATCH]);
    expect(failed('plain Error on a missing source')).toEqual([MISSING_SOURCE]);
  });
});
