/**
 * gc's merge and the ordering traps: ids 9 and 10 (numbers in the database, `10/` before `9/`
 * in S3), negative ids, object types that are prefixes of others (`a` and `a-b`: `-` sorts
 * before `/`), and non-ASCII types where UTF-16 and UTF-8 disagree (U+FF5E and U+1F600), on
 * every database and both stores. Every orphan is found, every missing file, nothing else.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { DataTypes, type ModelStatic, type Sequelize } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gc, Image, imageAttributes } from '../../src/index.js';
import { externalSort } from '../../src/external-sort.js';
import { compareUtf8, orderKeyOf } from '../../src/stores/key-order.js';
import { describeKey } from '../../src/stores/keys.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { makeTempDir } from '../support/temp-dir.js';
import { storeKinds } from '../models/stores.js';

const TYPES = ['a', 'a-b', 'x\u{ff5e}', 'x\u{1f600}', 'ä'];
const OWNED = [9n, 10n, 100n, -5n, 2n ** 40n];
const ORPHANED = [11n, 99n, 1000n, -50n];
const MISSING = [8n, 90n, 101n];

function defineModel(sequelize: Sequelize, index: number, objectType: string) {
  class Pic extends Image {}
  Pic.init(
    { ownerId: { type: DataTypes.BIGINT, primaryKey: true }, ...imageAttributes() },
    { sequelize, tableName: `order_pic_${index}`, modelName: `OrderPic${index}` },
  );
  Pic.objectType = objectType;
  return Pic as unknown as ModelStatic<Image>;
}

describe('compareUtf8', () => {
  test('orders strings as their UTF-8 bytes do', () => {
    const alphabet = [
      'a',
      '/',
      '-',
      '0',
      '9',
      'é',
      '\u{ff5e}',
      '\u{e000}',
      '\u{1f600}',
      '\u{10000}',
    ];
    const strings = Array.from({ length: 400 }, (_, i) =>
      Array.from(
        { length: 1 + (i % 4) },
        (_, j) => alphabet[(i * 7 + j * 3) % alphabet.length],
      ).join(''),
    );
    const byBytes = [...strings].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...strings].sort(compareUtf8)).toEqual(byBytes);
    // The trap itself: UTF-16 puts U+1F600 (a surrogate pair) first.
    expect('\u{1f600}' < '\u{ff5e}').toBe(true);
    expect(compareUtf8('\u{1f600}', '\u{ff5e}')).toBeGreaterThan(0);
  });

  test('puts photo/10/… before photo/9/…, and a-b/ before a/', () => {
    const key = (objectType: string, objectId: bigint) =>
      orderKeyOf({ objectType, objectId, width: 1, height: 1, mimetype: 'image/png' });
    expect(compareUtf8(key('photo', 10n), key('photo', 9n))).toBeLessThan(0);
    expect(compareUtf8(key('a-b', 1n), key('a', 1n))).toBeLessThan(0);
  });
});

describe('externalSort', () => {
  test('sorts through many runs on disk and removes them', async () => {
    const dir = await makeTempDir('external-sort');
    try {
      const numbers = Array.from({ length: 5000 }, () => randomBytes(4).readUInt32LE());
      const sorted: number[] = [];
      for await (const n of externalSort(numbers, {
        compare: (a, b) => a - b,
        encode: (n) => n,
        decode: (data) => data as number,
        runSize: 300,
        tmpDir: dir.path,
      })) {
        sorted.push(n);
      }
      expect(sorted).toEqual([...numbers].sort((a, b) => a - b));
      expect(await readdir(dir.path)).toEqual([]);
    } finally {
      await dir.remove();
    }
  });

  test('waits for a full run file to drain without piling up listeners on it', async () => {
    const dir = await makeTempDir('external-sort');
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      // Lines of about 1 KiB: one run fills the write stream's buffer many times over.
      const items = Array.from({ length: 2000 }, (_, i) => `${i}`.padStart(1000, '0'));
      let count = 0;
      for await (const item of externalSort(items, {
        compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
        encode: (item) => item,
        decode: (data) => data as string,
        runSize: 2000,
        tmpDir: dir.path,
      })) {
        expect(item).toBe(items[count]);
        count += 1;
      }
      expect(count).toBe(items.length);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual(
        [],
      );
    } finally {
      process.off('warning', onWarning);
      await dir.remove();
    }
  });

  test('removes its runs when its reader stops early', async () => {
    const dir = await makeTempDir('external-sort');
    try {
      const source = Array.from({ length: 1000 }, (_, i) => 1000 - i);
      for await (const n of externalSort(source, {
        compare: (a, b) => a - b,
        encode: (n) => n,
        decode: (data) => data as number,
        runSize: 100,
        tmpDir: dir.path,
      })) {
        expect(n).toBe(1);
        expect((await readdir(dir.path)).length).toBe(1);
        break;
      }
      expect(await readdir(dir.path)).toEqual([]);
    } finally {
      await dir.remove();
    }
  });
});

for (const kind of databaseKinds()) {
  describe.each(storeKinds())(`gc's merge on ${kind.name}, store %s`, (storeKind) => {
    let db: TestDatabase;
    let models: ModelStatic<Image>[];
    beforeAll(async () => {
      db = await kind.open();
      models = TYPES.map((type, i) => defineModel(db.sequelize, i, type));
      await db.reset();
    });
    afterAll(() => db.close());

    test('finds exactly the orphans and the missing files', async () => {
      const fixture = await storeKind.open();
      try {
        const png = Buffer.from('not decoded by gc');
        const expectedOrphans: string[] = [];
        const expectedMissing: string[] = [];
        for (const model of models) {
          const objectType = (model as unknown as typeof Image).objectType!;
          const rows = [...OWNED, ...MISSING].map((id) => ({
            ownerId: String(id),
            width: 3,
            height: 2,
            mimetype: 'image/png',
            original: true,
          }));
          await model.bulkCreate(rows, { hooks: false });
          for (const id of [...OWNED, ...ORPHANED]) {
            await fixture.store.putFile(png, objectType, id, 3, 2, 'image/png', false);
          }
          for (const objectId of ORPHANED) {
            expectedOrphans.push(
              describeKey({ objectType, objectId, width: 3, height: 2, mimetype: 'image/png' }),
            );
          }
          for (const objectId of MISSING) {
            expectedMissing.push(
              describeKey({ objectType, objectId, width: 3, height: 2, mimetype: 'image/png' }),
            );
          }
        }
        const report = await gc({ store: fixture.store, models, gracePeriod: 0 });
        expect(report.orphans.map((file) => describeKey(file.key)).sort()).toEqual(
          expectedOrphans.sort(),
        );
        expect(report.missing.map((image) => describeKey(image)).sort()).toEqual(
          expectedMissing.sort(),
        );
        expect(report.unknown).toEqual([]);
        expect(report.rows).toBe(TYPES.length * (OWNED.length + MISSING.length));
        expect(report.files).toBe(TYPES.length * (OWNED.length + ORPHANED.length));
        expect(report.counts).toMatchObject({
          orphans: expectedOrphans.length,
          missing: expectedMissing.length,
          recent: 0,
          deleted: 0,
        });

        // With counts only, and the findings seen one by one; then the orphans removed.
        const seen: string[] = [];
        const counted = await gc({
          store: fixture.store,
          models,
          gracePeriod: 0,
          collect: false,
          delete: true,
          onFinding: (finding) => {
            if (finding.kind === 'deleted') seen.push(describeKey(finding.file.key));
          },
        });
        expect(counted.orphans).toEqual([]);
        expect(counted.deleted).toEqual([]);
        expect(counted.counts.deleted).toBe(expectedOrphans.length);
        expect(seen.sort()).toEqual(expectedOrphans.sort());
        const after = await fixture.list();
        expect(after.length).toBe(TYPES.length * OWNED.length);
        const orphanNames = new Set(
          models.flatMap((model) =>
            ORPHANED.map((objectId) =>
              fixture.keyOf({
                objectType: (model as unknown as typeof Image).objectType!,
                objectId,
                width: 3,
                height: 2,
                mimetype: 'image/png',
              }),
            ),
          ),
        );
        expect(after.filter((name) => orphanNames.has(name))).toEqual([]);
      } finally {
        await fixture.cleanup();
        for (const model of models) await model.destroy({ where: {}, hooks: false });
      }
    });
  });
}
