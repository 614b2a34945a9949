/**
 * Two transactions on one file key, in the orders that used to lose a committed file:
 *
 * - a transaction deletes the row of a key and commits while another waits to insert the same
 *   key: the first one's post-commit delete must not remove the second one's file;
 * - a transaction writes a key and rolls back while another waits to insert the same key: the
 *   rollback must not remove the second one's file.
 *
 * The interleavings are forced with gates and the database's own query log, never with
 * sleeps: on PostgreSQL the key's advisory lock makes the post-commit check wait for the
 * writer; on SQLite the check's IMMEDIATE transaction waits for every writer.
 */
import type { Transaction } from 'sequelize';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { OrphanFileWarning, type FileInput } from '../../src/index.js';
import { jpeg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { FailingStore } from './failing-store.js';
import { defineModels, type Models } from './models.js';
import { storeKinds, type StoreFixture } from './stores.js';

function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** What happened, in order: SQL as the database was sent it, and the store's writes and deletes. */
type Event = { sql: string; connection: string } | { store: 'put' | 'delete'; key: string };

/** The real store, noting every put and delete in the shared event list. */
class RecordingStore extends FailingStore {
  constructor(
    inner: FailingStore['inner'],
    readonly events: Event[],
  ) {
    super(inner);
  }

  override async putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
  ): Promise<void> {
    await super.putFile(file, objectType, objectId, width, height, mimetype, reproducible);
    this.events.push({ store: 'put', key: `${objectType}/${objectId}/${width}x${height}` });
  }

  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    this.events.push({ store: 'delete', key: `${objectType}/${objectId}/${width}x${height}` });
    await super.deleteFile(objectType, objectId, width, height, mimetype);
  }
}

/** Sequelize reads `options.logging` at every query; the typings do not declare it. */
const optionsOf = (db: TestDatabase) =>
  (db.sequelize as unknown as { options: { logging: ((message: string) => void) | false } })
    .options;
/** A transaction's id, which names its connection in the query log. */
const idOf = (transaction: Transaction) => (transaction as unknown as { id: string }).id;

const fsKind = storeKinds().find((kind) => kind.name === 'fs')!;

describe.each(databaseKinds())('races on one key on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let fixture: StoreFixture;
  let events: Event[];
  let store: RecordingStore;
  let warnings: OrphanFileWarning[];
  const onWarning = (warning: Error) => {
    if (warning instanceof OrphanFileWarning) warnings.push(warning);
  };

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());

  beforeEach(async () => {
    await db.reset();
    fixture = await fsKind.open();
    events = [];
    warnings = [];
    store = new RecordingStore(fixture.store, events);
    process.on('warning', onWarning);
    optionsOf(db).logging = (message: string) => {
      const match = /^Executing \(([^)]*)\): ([\s\S]*)$/.exec(message);
      if (match !== null) events.push({ connection: match[1]!, sql: match[2]! });
    };
  });
  afterEach(async () => {
    optionsOf(db).logging = false;
    process.off('warning', onWarning);
    await fixture.cleanup();
  });

  const sqlAt = (test: (event: { sql: string; connection: string }) => boolean) =>
    events.findIndex((event) => 'sql' in event && test(event));
  const storeAt = (action: 'put' | 'delete', key: string, from = 0) =>
    events.findIndex(
      (event, index) =>
        index >= from && 'store' in event && event.store === action && event.key === key,
    );
  const nameOf = (image: { objectType: string; objectId: bigint; width: number; height: number }) =>
    `${image.objectType}/${image.objectId}/${image.width}x${image.height}`;
  /** The statement by which the post-commit check waits for the key's writers (PostgreSQL). */
  const waitsForWriters = (sql: string) => sql.includes('pg_advisory_xact_lock');

  test('a post-commit delete waits for the writer of the same key, and keeps its file', async () => {
    const user = await models.User.create();
    const old = await user.picture.fromRawFile((await jpeg(40, 40, 10)).bytes, {
      store,
      width: 40,
      height: 40,
      mimetype: 'image/jpeg',
      original: false,
    });
    const t0 = await db.sequelize.transaction();
    await old.destroy({ transaction: t0, imageStore: store });

    // t0's COMMIT goes through, then waits for t1 to have written the key before the library
    // settles t0's files: the order in which a late delete would remove t1's file.
    const written = signal();
    const release = signal();
    const queryInterface = db.sequelize.getQueryInterface() as unknown as {
      commitTransaction: (
        this: unknown,
        transaction: Transaction,
        options: object,
      ) => Promise<unknown>;
    };
    const commitTransaction = queryInterface.commitTransaction;
    queryInterface.commitTransaction = async function (transaction, options) {
      const result = await commitTransaction.call(this, transaction, options);
      if (transaction === t0) await written.promise;
      return result;
    };
    let t1Id = '';
    try {
      const second = db.sequelize.transaction(async (t1) => {
        t1Id = idOf(t1);
        // Waits for t0: PostgreSQL on the primary key t0 deleted, SQLite for its write turn,
        // which t0 hands on once its COMMIT statement is done.
        const image = await user.picture.fromRawFile((await jpeg(40, 40, 250)).bytes, {
          store,
          transaction: t1,
          width: 40,
          height: 40,
          mimetype: 'image/jpeg',
          original: false,
        });
        written.resolve();
        await release.promise;
        return image;
      });
      const committed = t0.commit();
      if (db.dialect === 'postgres') {
        // t0's check has asked for the key's lock while t1 holds it.
        await vi.waitFor(() =>
          expect(
            sqlAt((event) => event.connection !== t1Id && waitsForWriters(event.sql)),
          ).toBeGreaterThan(-1),
        );
      } else {
        // SQLite: t0's check waits for its write turn in JavaScript (no BEGIN sent yet) while
        // t1 holds it.
        await written.promise;
        const t0Commit = sqlAt((event) => event.connection === idOf(t0) && event.sql === 'COMMIT;');
        expect(t0Commit).toBeGreaterThan(-1);
        const begunSince = events
          .slice(t0Commit)
          .filter((event) => 'sql' in event && event.connection !== t1Id)
          .filter((event) => 'sql' in event && /^BEGIN/.test(event.sql));
        expect(begunSince).toEqual([]);
      }
      release.resolve();
      const image = await second;
      await committed;

      const t1Commit = sqlAt((event) => event.connection === t1Id && event.sql === 'COMMIT;');
      const check = sqlAt((event) => event.connection !== t1Id && /SELECT count\(/.test(event.sql));
      expect(t1Commit).toBeGreaterThan(-1);
      expect(check).toBeGreaterThan(t1Commit); // the check saw t1's committed row
      expect(storeAt('delete', nameOf(image), t1Commit)).toBe(-1);
      expect(warnings).toEqual([]);
      expect(await image.makeBlob({ store })).toEqual((await jpeg(40, 40, 250)).bytes);
      expect(await fixture.list()).toEqual([fixture.keyOf(image)]);
    } finally {
      queryInterface.commitTransaction = commitTransaction;
      // Should an expectation fail, t1 must still end, or closing the database would hang.
      written.resolve();
      release.resolve();
    }
  });

  test('a rollback removes its files before ROLLBACK, so a writer waiting on the key keeps its file', async () => {
    const user = await models.User.create();
    const t0 = await db.sequelize.transaction();
    const mine = await user.picture.fromRawFile((await jpeg(40, 40, 10)).bytes, {
      store,
      transaction: t0,
      width: 40,
      height: 40,
      mimetype: 'image/jpeg',
    });
    const t1Id = signal<string>();
    const bytes = (await jpeg(40, 40, 250)).bytes;
    const second = db.sequelize.transaction(async (t1) => {
      t1Id.resolve(idOf(t1));
      // Waits for t0: PostgreSQL in the lock of the user row; SQLite for its write turn, which
      // t0 holds from its first write to its ROLLBACK.
      return await user.picture.fromRawFile(bytes, {
        store,
        transaction: t1,
        width: 40,
        height: 40,
        mimetype: 'image/jpeg',
      });
    });
    const id = await t1Id.promise;
    const t1LocksUser = (event: { connection: string; sql: string }) =>
      event.connection === id && /users/.test(event.sql);
    // PostgreSQL: t1 has sent the statement that waits for t0's lock.
    if (db.dialect === 'postgres') {
      await vi.waitFor(() => expect(sqlAt(t1LocksUser)).toBeGreaterThan(-1));
    }
    await t0.rollback();
    const theirs = await second;
    if (db.dialect === 'sqlite') {
      // SQLite: t1 waited in JavaScript, not in SQLite, and wrote only after t0's ROLLBACK.
      const rolledBack = sqlAt(
        (event) => event.connection === idOf(t0) && /^ROLLBACK/.test(event.sql),
      );
      expect(sqlAt(t1LocksUser)).toBeGreaterThan(rolledBack);
    }

    const key = nameOf(mine);
    const removed = storeAt('delete', key);
    const rollback = sqlAt((event) => event.connection === idOf(t0) && /^ROLLBACK/.test(event.sql));
    const written = storeAt('put', key, rollback);
    expect(removed).toBeGreaterThan(-1);
    expect(rollback).toBeGreaterThan(removed); // the file went while t0 still held the row
    expect(written).toBeGreaterThan(rollback);
    expect(storeAt('delete', key, written)).toBe(-1);
    expect(warnings).toEqual([]);
    expect(fixture.keyOf(theirs)).toBe(fixture.keyOf(mine));
    expect(await user.picture.makeBlob({ store })).toEqual((await jpeg(40, 40, 250)).bytes);
    expect(await fixture.list()).toEqual([fixture.keyOf(theirs)]);
  });
});
