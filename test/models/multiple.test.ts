/**
 * Multiple image sets: the original's test_many_images, and the subset isolation its
 * ImageSubset lacked (findThumbnail and thumbnail de-duplication scoped to the subset).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Store } from '../../src/index.js';
import { jpeg, jpeg405x640, svg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { defineModels, type Models } from './models.js';
import { storeKinds, type StoreFixture } from './stores.js';

const fsKind = storeKinds().find((kind) => kind.name === 'fs')!;

describe.each(databaseKinds())('multiple image sets on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let fixture: StoreFixture;
  let store: Store;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.reset();
    fixture = await fsKind.open();
    store = fixture.store;
  });
  afterEach(() => fixture.cleanup());

  test('many images (the original test_many_images)', async () => {
    const post = await models.Post.create();
    const first = post.photos.getImageSet({ orderIndex: 0 });
    const sample = await jpeg405x640();
    await first.fromBlob(sample.bytes, { store });
    expect(await post.photos.count()).toBe(1);
    expect(await first.count()).toBe(1);
    expect(await post.photos.imageSets()).toHaveLength(1);
    await first.generateThumbnail({ width: 100 }, { store });
    expect(await post.photos.count()).toBe(2);
    expect(await first.count()).toBe(2);
    expect(await post.photos.imageSets()).toHaveLength(1);
    const second = post.photos.getImageSet({ orderIndex: 1 });
    await second.fromBlob(svg().bytes, { store });
    expect(await post.photos.count()).toBe(3);
    expect(await second.count()).toBe(1);
    expect(await post.photos.imageSets()).toHaveLength(2);
    expect(await first.makeBlob({ store })).toEqual(sample.bytes);
    expect(await second.makeBlob({ store })).toEqual(svg().bytes);
    // Replacing the first set's original clears only the first set.
    await first.fromBlob((await jpeg(20, 20)).bytes, { store });
    expect(await post.photos.count()).toBe(2);
    expect(await first.count()).toBe(1);
    expect(await second.count()).toBe(1);
    const sets = await post.photos.imageSets();
    expect(sets.map((set) => set.criteria)).toEqual([{ orderIndex: 0 }, { orderIndex: 1 }]);
    expect(await sets[1]!.makeBlob({ store })).toEqual(svg().bytes);
    expect(await fixture.list()).toHaveLength(2);
  });

  test('each subset keeps its own thumbnails and finds only its own', async () => {
    const post = await models.Post.create();
    const [a, b] = [
      post.photos.getImageSet({ orderIndex: 0 }),
      post.photos.getImageSet({ orderIndex: 1 }),
    ];
    await a.fromBlob((await jpeg(200, 100, 10)).bytes, { store });
    await b.fromBlob((await jpeg(200, 100, 250)).bytes, { store });
    const thumbA = await a.generateThumbnail({ width: 50 }, { store });
    // The same size in b is a new thumbnail, not a's (the original returned a's).
    const thumbB = await b.generateThumbnail({ width: 50 }, { store });
    expect(thumbB.orderIndex).toBe(1);
    expect(thumbA.orderIndex).toBe(0);
    expect(await b.count()).toBe(2);
    expect((await b.findThumbnail({ width: 50 })).orderIndex).toBe(1);
    const c = post.photos.getImageSet({ orderIndex: 2 });
    await expect(c.findThumbnail({ width: 50 })).rejects.toMatchObject({ code: 'E_NO_THUMBNAIL' });
    await expect(c.generateThumbnail({ width: 50 }, { store })).rejects.toMatchObject({
      code: 'E_NO_ORIGINAL',
    });
    expect(await thumbA.makeBlob({ store })).not.toEqual(await thumbB.makeBlob({ store }));
    expect(await fixture.list()).toHaveLength(4);
  });

  test('objectId overrides give each subset its own files; extra values are stored', async () => {
    const post = await models.Post.create();
    const set = post.photos.getImageSet({ orderIndex: 3 });
    const image = await set.fromBlob((await jpeg(20, 20)).bytes, {
      store,
      values: { caption: 'hello', orderIndex: 99 },
    });
    expect(image.orderIndex).toBe(3); // the subset's own keys win
    expect(image.caption).toBe('hello');
    expect(image.objectId).toBe((1n + 3n) ** 2n + 1n);
    expect(await fixture.list()).toEqual([fixture.keyOf(image)]);
  });

  test('getImageSet needs exactly the discriminator columns', async () => {
    const post = await models.Post.create();
    expect(post.photos.discriminators).toEqual(['orderIndex']);
    expect(() => post.photos.getImageSet({})).toThrow(TypeError);
    expect(() => post.photos.getImageSet({ orderIndex: 1, width: 3 })).toThrow(TypeError);
    expect(() => post.photos.getImageSet({ caption: 'x' })).toThrow(TypeError);
    expect(() => post.photos.getImageSet({ orderIndex: undefined })).toThrow(TypeError);
    expect(post.photos.sequelize).toBe(db.sequelize);
    expect(post.photos).toBe(post.photos);
  });

  test('deleting the parent removes every subset and its files', async () => {
    const post = await models.Post.create();
    for (const orderIndex of [0, 1]) {
      const set = post.photos.getImageSet({ orderIndex });
      await set.fromBlob((await jpeg(20, 20)).bytes, { store });
      await set.generateThumbnail({ ratio: 0.5 }, { store });
    }
    expect(await fixture.list()).toHaveLength(4);
    await db.sequelize.transaction((transaction) =>
      post.destroy({ transaction, imageStore: store } as object),
    );
    expect(await models.PostPhoto.count()).toBe(0);
    expect(await fixture.list()).toEqual([]);
  });
});
