/**
 * With `Sequelize.useCLS()`, set methods join the transaction of the surrounding
 * `sequelize.transaction(async () => …)` without being given it. useCLS is process-wide, so
 * this file is on its own (Vitest runs each file in a process of its own).
 */
import { createNamespace } from 'cls-hooked';
import { Sequelize } from 'sequelize';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { jpeg } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { defineModels, type Models } from './models.js';
import { storeKinds, type StoreFixture } from './stores.js';

Sequelize.useCLS(createNamespace('imageattach-test'));
const fsKind = storeKinds().find((kind) => kind.name === 'fs')!;

class Rollback extends Error {}

describe.each(databaseKinds())('CLS transactions on $name', (kind) => {
  let db: TestDatabase;
  let models: Models;
  let fixture: StoreFixture;

  beforeAll(async () => {
    db = await kind.open();
    models = defineModels(db.sequelize);
    await db.reset();
    fixture = await fsKind.open();
  });
  afterAll(async () => {
    await fixture.cleanup();
    await db.close();
  });

  test('a rolled-back CLS transaction takes the rows and files of calls made without one', async () => {
    const { store } = fixture;
    const user = await models.User.create();
    await expect(
      db.sequelize.transaction(async () => {
        await user.picture.fromBlob((await jpeg(40, 40)).bytes, { store });
        await user.picture.generateThumbnail({ width: 10 }, { store });
        expect(await user.picture.count()).toBe(2);
        expect(await fixture.list()).toHaveLength(2);
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    expect(await user.picture.count()).toBe(0);
    expect(await fixture.list()).toEqual([]);
  });

  test('deletes made in a CLS transaction wait for its commit', async () => {
    const { store } = fixture;
    const user = await models.User.create();
    const image = await user.picture.fromBlob((await jpeg(40, 40)).bytes, { store });
    await db.sequelize.transaction(async () => {
      await models.UserPicture.destroy({ where: { userId: user.id }, imageStore: store } as object);
      expect(await fixture.list()).toEqual([fixture.keyOf(image)]);
    });
    expect(await fixture.list()).toEqual([]);
  });
});
