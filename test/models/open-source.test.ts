/**
 * `Image#openSource`: the file as sharp reads it fastest — its path on a store with local
 * files, a stream elsewhere — with the same not-found error and transaction view as openFile.
 */
import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ImageNotFoundError, MirrorStore } from '../../src/index.js';
import { jpeg405x640, pngAlpha } from '../fixtures/samples.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { defineModels, type Models } from './models.js';
import { storeKinds, type StoreFixture } from './stores.js';

const sqlite = databaseKinds().find((kind) => kind.name === 'sqlite')!;

describe.each(storeKinds())('Image#openSource on the $name store', (kind) => {
  let database: TestDatabase;
  let models: Models;
  let fixture: StoreFixture;

  beforeAll(async () => {
    database = await sqlite.open();
    models = defineModels(database.sequelize);
    await database.reset();
    fixture = await kind.open();
  });
  afterAll(async () => {
    await fixture.cleanup();
    await database.close();
  });

  test('gives the stored bytes: a path where the store keeps local files, else a stream', async () => {
    const { store } = fixture;
    const bytes = (await jpeg405x640()).bytes;
    const user = await models.User.create();
    const image = await user.picture.fromFile(bytes, { store });
    const source = await image.openSource({ store });
    if (store.localPath === undefined) {
      expect(source).toBeInstanceOf(Readable);
      const chunks: Buffer[] = [];
      for await (const chunk of source as Readable) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks)).toEqual(bytes);
    } else {
      expect(typeof source).toBe('string');
      expect(await readFile(source as string)).toEqual(bytes);
    }
    // A mirror has no local path of its own: it streams from its primary.
    const mirror = new MirrorStore({ primary: store, mirrors: [] });
    expect(await image.openSource({ store: mirror })).toBeInstanceOf(Readable);
  });

  test('rejects with ImageNotFoundError when the file is missing', async () => {
    const { store } = fixture;
    const user = await models.User.create();
    const image = await user.picture.fromFile((await pngAlpha()).bytes, { store });
    await store.delete(image);
    await expect(image.openSource({ store })).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  test('inside the transaction of a same-size replacement, gives the new bytes', async () => {
    const { store } = fixture;
    const first = (await jpeg405x640()).bytes;
    const user = await models.User.create();
    await user.picture.fromFile(first, { store });
    const second = Buffer.concat([first.subarray(0, first.length - 2), Buffer.from([0xff, 0xd9])]);
    const at = first.length - 100;
    second.writeUInt8(second.readUInt8(at) ^ 0xff, at); // other bytes, same size and type
    await database.sequelize.transaction(async (transaction) => {
      const replaced = await user.picture.fromRawFile(second, {
        store,
        transaction,
        width: 405,
        height: 640,
        mimetype: 'image/jpeg',
      });
      const source = await replaced.openSource({ store, transaction });
      const read =
        typeof source === 'string'
          ? await readFile(source)
          : Buffer.concat(await Readable.from(source).toArray());
      expect(read).toEqual(second);
    });
  });
});
