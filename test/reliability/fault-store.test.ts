/**
 * The fault injectors themselves: a test that fails for the wrong reason proves nothing, so
 * each kind of fault is checked to fire exactly where asked, and nowhere else.
 */
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { FileSystemStore } from '../../src/index.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { commitFaults, FaultStore, InjectedCommitFault } from '../support/fault-store.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';

const KEY = ['user', 1, 10, 10, 'image/png'] as const;
const BYTES = Buffer.alloc(20_000, 7);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('FaultStore', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let inner: FileSystemStore;
  let store: FaultStore;
  beforeEach(async () => {
    dir = await makeTempDir('fault-store');
    inner = new FileSystemStore({ path: dir.path, baseUrl: 'http://x/' });
    store = new FaultStore(inner);
  });
  afterEach(() => dir.remove());

  test('fails the nth matching call, as many times as asked, then passes calls through', async () => {
    store.fail({ operation: 'putFile', nth: 2, times: 2 });
    await store.putFile(BYTES, ...KEY, false);
    await expect(store.putFile(BYTES, ...KEY, false)).rejects.toMatchObject({ code: 'E_STORE' });
    await expect(store.putFile(BYTES, ...KEY, false)).rejects.toMatchObject({ code: 'E_STORE' });
    await store.putFile(BYTES, ...KEY, false);
    expect(store.calls.map((call) => call.faulted)).toEqual([false, true, true, false]);
    expect(store.faults).toBe(2);
  });

  test('counts only calls whose key matches', async () => {
    store.fail({ operation: 'deleteFile', match: (key) => key.width === 20 });
    await store.deleteFile(...KEY);
    await expect(store.deleteFile('user', 1, 20, 10, 'image/png')).rejects.toThrow('on purpose');
    expect(store.faults).toBe(1);
  });

  test('cuts a write after N bytes: the write fails and nothing is stored', async () => {
    store.fail({ operation: 'putFile', afterBytes: 5000 });
    await expect(store.putFile(BYTES, ...KEY, false)).rejects.toThrow('putFile failed on purpose');
    expect(await inner.statFile(...KEY)).toBeUndefined();
    await expect(store.putFile(Readable.from([BYTES]), ...KEY, false)).resolves.toBeUndefined();
    expect(await inner.statFile(...KEY)).toEqual({ size: BYTES.length });
  });

  test('cuts a read after N bytes: the stream errors after exactly those bytes', async () => {
    await inner.putFile(BYTES, ...KEY, false);
    store.fail({ operation: 'getFile', afterBytes: 5000 });
    const stream = await store.getFile(...KEY);
    let received = 0;
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    await expect(readAll(stream)).rejects.toThrow('getFile failed on purpose');
    expect(received).toBe(5000);
    expect(await readAll(await store.getFile(...KEY))).toEqual(BYTES);
  });

  test('fails reads, stats and lists nothing it was not asked to', async () => {
    await inner.putFile(BYTES, ...KEY, false);
    store.fail({ operation: 'getFile' }).fail({ operation: 'statFile' });
    await expect(store.getFile(...KEY)).rejects.toThrow('getFile failed on purpose');
    await expect(store.statFile(...KEY)).rejects.toThrow('statFile failed on purpose');
    expect(await store.statFile(...KEY)).toEqual({ size: BYTES.length });
    const listed = [];
    for await (const file of store.listFiles()) listed.push(file.name);
    expect(listed).toEqual(['user/1/0/1.10x10.png']);
    store.clear().fail({ operation: 'getFile', times: 0 });
    await expect(store.getFile(...KEY)).resolves.toBeInstanceOf(Readable);
  });
});

describe.each(databaseKinds())('commitFaults on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
    await db.sequelize.sync({ force: true });
  });
  afterAll(() => db.close());

  test('a refused commit rolls back; a lost answer commits; savepoints are left alone', async () => {
    const faults = commitFaults(db.sequelize);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      faults.failNext();
      await expect(
        db.sequelize.transaction(async (transaction) => {
          // A savepoint's commit is not the one refused.
          await db.sequelize.transaction({ transaction }, (t) =>
            models.User.create({}, { transaction: t }),
          );
        }),
      ).rejects.toBeInstanceOf(InjectedCommitFault);
      expect(await models.User.count()).toBe(0);
      expect(faults.refused).toBe(1);

      faults.failNext(1, 'lose-ack');
      await expect(
        db.sequelize.transaction((transaction) => models.User.create({}, { transaction })),
      ).rejects.toBeInstanceOf(InjectedCommitFault);
      expect(await models.User.count()).toBe(1);

      await db.sequelize.transaction((transaction) => models.User.create({}, { transaction }));
      expect(await models.User.count()).toBe(2);
      faults.reset();
      expect(faults.refused).toBe(0);
    } finally {
      warn.mockRestore();
      faults.restore();
    }
  });
});
