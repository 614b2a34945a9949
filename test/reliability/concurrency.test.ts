/**
 * Concurrent writers: many attaches to different parents, many replacements of one parent's
 * original, and one thumbnail asked for many times at once. The final state passes the
 * invariant checker, each set has exactly one original, and each thumbnail size is computed
 * and stored once, on PostgreSQL (with DATABASE_URL) and, at the same sizes, on a SQLite file
 * database without Sequelize's `retry` option (its writers take turns, one at a time, so the
 * run lasts about as long as the writes one after another).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FileSystemStore } from '../../src/index.js';
import { fileIdentity } from '../../src/stores/keys.js';
import { jpeg, jpeg405x640 } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { FaultStore } from '../support/fault-store.js';
import { checkInvariants, sha256 } from '../support/invariants.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineModels, type Models } from '../models/models.js';
import { iterations } from './random.js';

const scale = (postgres: number, sqlite: number, kind: string) =>
  Math.max(1, Math.round((kind === 'postgres' ? postgres : sqlite) * iterations()));

describe.each(databaseKinds())('concurrent writers on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let dir: { path: string; remove: () => Promise<void> };
  let store: FaultStore;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.sequelize.sync({ force: true });
    dir = await makeTempDir('concurrency');
    store = new FaultStore(new FileSystemStore({ path: dir.path, baseUrl: 'http://x.test/' }));
  });
  afterEach(() => dir.remove());

  const attaches = scale(200, 200, kind.name);
  test(
    `${attaches} concurrent attaches to different parents`,
    { timeout: 300_000 * Math.max(1, iterations()) },
    async () => {
      const users = await Promise.all(Array.from({ length: attaches }, () => models.User.create()));
      const samples = await Promise.all(users.map((_, i) => jpeg(40 + (i % 5), 30, i % 256)));
      const images = await Promise.all(
        users.map((user, i) => user.picture.fromBlob(samples[i]!.bytes, { store })),
      );
      const rows = new Map(
        images.map((image, i) => [fileIdentity(image), { sha256: sha256(samples[i]!.bytes) }]),
      );
      expect(rows.size).toBe(attaches);
      const { problems } = await checkInvariants(store, db.sequelize, { rows });
      expect(problems).toEqual([]);
    },
  );

  const replacements = scale(50, 50, kind.name);
  test(
    `${replacements} concurrent replacements of one parent's original`,
    { timeout: 300_000 * Math.max(1, iterations()) },
    async () => {
      const user = await models.User.create();
      await user.picture.fromBlob((await jpeg405x640(0)).bytes, { store });
      await user.picture.generateThumbnail({ width: 100 }, { store });
      // Half of them the same size and type as each other (one key), half of other sizes.
      const samples = await Promise.all(
        Array.from({ length: replacements }, (_, i) =>
          i % 2 === 0 ? jpeg405x640(i + 1) : jpeg(50 + i, 40, i),
        ),
      );
      const results = await Promise.allSettled(
        samples.map((sample) => user.picture.fromBlob(sample.bytes, { store })),
      );
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      const { problems, state } = await checkInvariants(store, db.sequelize);
      expect(problems).toEqual([]);
      expect(state.rows.size).toBe(1);
      const [row] = [...state.rows.values()];
      expect(row!.original).toBe(true);
      expect(samples.map((sample) => sha256(sample.bytes))).toContain(row!.sha256);
      // The last commit wins, and nothing of the others is left.
      expect(state.orphans).toEqual([]);
    },
  );

  const askers = Math.max(4, scale(20, 20, kind.name));
  test(
    `${askers} concurrent requests for the same thumbnails`,
    { timeout: 300_000 * Math.max(1, iterations()) },
    async () => {
      const user = await models.User.create();
      await user.picture.fromBlob((await jpeg405x640(3)).bytes, { store });
      const widths = [100, 50, 100, 200];
      const made = await Promise.all(
        Array.from({ length: askers }, (_, i) =>
          user.picture.generateThumbnail({ width: widths[i % widths.length]! }, { store }),
        ),
      );
      made.forEach((image, i) => expect(image.width).toBe(widths[i % widths.length]));
      const { problems, state } = await checkInvariants(store, db.sequelize);
      expect(problems).toEqual([]);
      expect([...state.rows.values()].filter((row) => !row.original)).toHaveLength(3);
      // Each size rendered and written once.
      const puts = store.calls
        .filter((call) => call.operation === 'putFile')
        .map((call) => call.key);
      expect(puts).toHaveLength(1 + 3);
      expect(new Set(puts).size).toBe(4);
    },
  );
});
