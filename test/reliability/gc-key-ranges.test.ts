/**
 * The id ranges of a distributed gc: every split covers every decimal id exactly once
 * (negative, zero, short, long, past 64 bits), the SQL restriction of an integer id column
 * selects exactly the ids of its prefix on every database here, and `gc({ keySpace })` checks
 * the prefix it is given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gc } from '../../src/index.js';
import { MemoryStore } from '../../src/testing.js';
import { depthFor, idColumnWhere, idPrefixes } from '../../src/gc-key-ranges.js';
import { modelImageSource } from '../../src/migration/model-source.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { defineModels, type Models } from '../models/models.js';

const IDS = [
  ...Array.from({ length: 2100 }, (_, i) => BigInt(i - 50)),
  10n ** 9n,
  2n ** 31n - 1n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 64n - 1n,
  -(2n ** 63n),
];

describe('idPrefixes', () => {
  it.each([1, 2, 3])('at depth %i, each id falls in exactly one range', (depth) => {
    const prefixes = idPrefixes(depth);
    expect(prefixes).toHaveLength(1 + 10 ** depth);
    for (const id of IDS) {
      const key = `${id}/100x80.png`;
      expect(
        prefixes.filter((prefix) => key.startsWith(prefix)),
        String(id),
      ).toHaveLength(1);
    }
  });

  it('chooses the fewest ranges that make the parts asked for', () => {
    expect([1, 11, 12, 101, 102, 5000, 10 ** 9].map(depthFor)).toEqual([1, 1, 2, 2, 3, 4, 4]);
  });

  it('is checked by gc, naming keySpace', async () => {
    const store = new MemoryStore();
    for (const idPrefix of ['', '01', 'a', '1//', '-1', '/']) {
      await expect(
        gc({ store, models: [], keySpace: { objectType: 'user', idPrefix } }),
      ).rejects.toMatchObject({ code: 'E_INVALID_OPTION', option: 'keySpace' });
    }
    await expect(gc({ store, models: [], keySpace: { objectType: 'a/b' } })).rejects.toMatchObject({
      option: 'keySpace',
    });
  });
});

const ROW_IDS = [-2_000_000, -4, 0, 1, 5, 12, 19, 100, 123, 1000, 1234, 2001, 30_000, 2 ** 31 - 1];

describe.each(databaseKinds())('idColumnWhere ($name)', (kind) => {
  let db: TestDatabase;
  let models: Models;
  // MySQL takes an id of 0 in an auto-increment column for "the next one".
  const ids = kind.name === 'mysql' ? ROW_IDS.filter((id) => id !== 0) : ROW_IDS;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
    await db.reset();
    await models.User.bulkCreate(ids.map((id) => ({ id })));
    await models.UserPicture.bulkCreate(
      ids.map((userId) => ({
        userId,
        width: 1,
        height: 1,
        mimetype: 'image/png',
        original: true,
        createdAt: new Date(),
      })),
      { hooks: false },
    );
  });
  afterAll(() => db?.close());

  it('selects in SQL exactly the ids of each prefix', async () => {
    for (const prefix of idPrefixes(2)) {
      const source = modelImageSource<InstanceType<Models['UserPicture']>>(
        models.UserPicture,
        100,
        idColumnWhere('userId', prefix),
      );
      const found: number[] = [];
      for await (const row of source.images()) found.push(row.userId);
      const expected = ids.filter((id) => `${id}/`.startsWith(prefix));
      expect(
        found.sort((a, b) => a - b),
        prefix,
      ).toEqual(expected);
    }
  });
});
