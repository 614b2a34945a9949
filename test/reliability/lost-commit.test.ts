/**
 * A COMMIT whose answer is lost (the fault store's `lose-ack`: the database committed, the
 * caller was told it failed), with two replacements of one image in the same second, on the
 * original's schema (`created_at` keeps whole seconds, so both rows hold the same time). The
 * library settles such a commit as "uncertain": the staged-file journal, not the time, must
 * decide that the bytes of the committed write take the key and those of a refused one never
 * do. Each case ends with the store's bytes, and with nothing staged or journalled left.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FileSystemStore, type Store } from '../../src/index.js';
import { STAGED_PREFIX } from '../../src/models/staged-files.js';
import { stagedJournalModel } from '../../src/models/staged-journal.js';
import { jpeg } from '../fixtures/samples.js';
import { defineModels, type Models } from '../models/models.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { commitFaults, InjectedCommitFault, type CommitFaults } from '../support/fault-store.js';
import { sha256 } from '../support/invariants.js';
import { dateAhead, storedCreatedAt, useOriginalPictureTable } from '../support/original-schema.js';
import { makeTempDir } from '../support/temp-dir.js';

const bytesOf = async (red: number) => (await jpeg(40, 40, red)).bytes;

async function readKey(store: Store, image: Parameters<Store['open']>[0]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.open(image)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.each(databaseKinds())(
  'a lost COMMIT answer, same-second replacements, on $name',
  (kind) => {
    let db: TestDatabase;
    let models: Models;
    let commits: CommitFaults;
    let dir: Awaited<ReturnType<typeof makeTempDir>>;
    let store: FileSystemStore;

    beforeAll(async () => {
      db = await kind.open();
      models = defineModels(db.sequelize);
      commits = commitFaults(db.sequelize);
    });
    afterAll(async () => {
      commits.restore();
      await db.close();
    });
    beforeEach(async () => {
      commits.reset();
      await db.reset();
      await useOriginalPictureTable(db.sequelize);
      dir = await makeTempDir('lost-commit');
      store = new FileSystemStore({ path: dir.path, baseUrl: 'http://x/' });
      return () => dir.remove();
    });

    /** A user whose original was committed, and a warm path (the journal's first probe made). */
    async function userWithPicture() {
      const user = await models.User.create();
      await user.picture.fromBlob(await bytesOf(10), { store });
      await user.picture.fromBlob(await bytesOf(20), { store });
      return user;
    }

    async function expectServes(user: Awaited<ReturnType<typeof userWithPicture>>, bytes: Buffer) {
      const image = await user.picture.requireOriginal({ store });
      expect(sha256(await readKey(store, image))).toBe(sha256(bytes));
      expect(await stagedJournalModel(db.sequelize).count()).toBe(0);
      const files: string[] = [];
      for await (const file of store.listFiles()) files.push(file.key.objectType);
      expect(files.filter((type) => type.startsWith(STAGED_PREFIX))).toEqual([]);
    }

    test('the second replacement committed with its answer lost: its bytes take the key', async () => {
      const user = await userWithPicture();
      const first = await bytesOf(120);
      const second = await bytesOf(240);
      await dateAhead(db.sequelize, user.id);
      await user.picture.fromBlob(first, { store });
      const [time] = await storedCreatedAt(db.sequelize, user.id);
      commits.failNext(1, 'lose-ack');
      await expect(user.picture.fromBlob(second, { store })).rejects.toBeInstanceOf(
        InjectedCommitFault,
      );
      expect(commits.refused).toBe(1);
      expect(await storedCreatedAt(db.sequelize, user.id)).toEqual([time]);
      await expectServes(user, second);
    });

    test('the first committed with its answer lost, the second refused: the first bytes stay', async () => {
      const user = await userWithPicture();
      const first = await bytesOf(120);
      const second = await bytesOf(240);
      await dateAhead(db.sequelize, user.id);
      commits.failNext(1, 'lose-ack');
      await expect(user.picture.fromBlob(first, { store })).rejects.toBeInstanceOf(
        InjectedCommitFault,
      );
      const [time] = await storedCreatedAt(db.sequelize, user.id);
      commits.failNext(1, 'refuse');
      await expect(user.picture.fromBlob(second, { store })).rejects.toBeInstanceOf(
        InjectedCommitFault,
      );
      expect(commits.refused).toBe(2);
      expect(await storedCreatedAt(db.sequelize, user.id)).toEqual([time]);
      await expectServes(user, first);
    });

    test('replaced twice in one transaction, its answer lost: the last bytes take the key', async () => {
      const user = await userWithPicture();
      const first = await bytesOf(120);
      const second = await bytesOf(240);
      commits.failNext(1, 'lose-ack');
      await expect(
        db.sequelize.transaction(async (transaction) => {
          await user.picture.fromBlob(first, { store, transaction });
          await user.picture.fromBlob(second, { store, transaction });
        }),
      ).rejects.toBeInstanceOf(InjectedCommitFault);
      await expectServes(user, second);
    });

    test('replaced twice in one transaction, the COMMIT refused: the committed bytes stay', async () => {
      const user = await userWithPicture();
      commits.failNext(1, 'refuse');
      await expect(
        db.sequelize.transaction(async (transaction) => {
          await user.picture.fromBlob(await bytesOf(120), { store, transaction });
          await user.picture.fromBlob(await bytesOf(240), { store, transaction });
        }),
      ).rejects.toBeInstanceOf(InjectedCommitFault);
      await expectServes(user, await bytesOf(20));
    });
  },
);
