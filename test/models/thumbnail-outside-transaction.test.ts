/**
 * `generateThumbnail` in a transaction of its own reads and decodes the original before the
 * transaction begins: while its read of the original is held up, another write to the same
 * parent goes through (on SQLite: the one write turn is free; on PostgreSQL and MySQL: the
 * parent's row is not locked). A replacement in that window is noticed, and the thumbnail is
 * made from the new original.
 */
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { imageTransaction } from '../../src/index.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { FaultStore } from '../support/fault-store.js';
import { MemoryStore } from '../support/memory-store.js';
import { defineModels, type Models } from './models.js';

/** A store whose reads wait for `release()` after `hold()`. */
class SlowReads extends FaultStore {
  #gate: Promise<void> | undefined;
  #open: () => void = () => undefined;
  reads = 0;

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open();
    this.#gate = undefined;
  }

  override async getFile(
    ...key: [string, bigint | number, number, number, string]
  ): Promise<Readable> {
    this.reads += 1;
    await this.#gate;
    return super.getFile(...key);
  }
}

const png = (width: number, height: number, background: string) =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();

describe.each(databaseKinds())('generateThumbnail on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let store: SlowReads;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.sequelize.sync({ force: true });
    store = new SlowReads(new MemoryStore());
  });

  it('decodes outside its write transaction: a write to the same parent is not held up', async () => {
    const user = await models.User.create();
    await user.picture.fromBlob(await png(400, 200, '#ff0000'), { store });
    store.hold();
    const thumbnail = user.picture.generateThumbnail({ width: 100 }, { store });
    await vi.waitFor(() => expect(store.reads).toBe(1));
    // Locks the parent row, as a write of its images does.
    await imageTransaction(db.sequelize, async (transaction) => {
      const parent = await models.User.findByPk(user.id, { lock: true, transaction });
      await parent!.update({ name: 'renamed' }, { transaction });
    });
    store.release();
    const made = await thumbnail;
    expect([made.width, made.height]).toEqual([100, 50]);
    expect(await user.picture.count()).toBe(2);
  });

  it('makes the thumbnail of the new original when the original is replaced meanwhile', async () => {
    const user = await models.User.create();
    await user.picture.fromBlob(await png(400, 200, '#ff0000'), { store });
    store.hold();
    const thumbnail = user.picture.generateThumbnail({ width: 100 }, { store });
    await vi.waitFor(() => expect(store.reads).toBe(1));
    await user.picture.fromBlob(await png(400, 100, '#0000ff'), { store });
    store.release();
    const made = await thumbnail;
    expect([made.width, made.height]).toEqual([100, 25]);
    const { dominant } = await sharp(await made.makeBlob({ store })).stats();
    expect(dominant.b).toBeGreaterThan(200);
    expect(await user.picture.count()).toBe(2);
  });
});
