/**
 * The operations of the fault matrix. Each sets up its scene with the store working, then runs
 * in one managed transaction, and says which rows there must be afterwards if it succeeded.
 */
import type { Transaction } from 'sequelize';
import { storeContext, type Store } from '../../src/index.js';
import { fileIdentity } from '../../src/stores/keys.js';
import { jpeg, jpeg405x640 } from '../fixtures/samples.js';
import type { Models } from '../models/models.js';
import { sha256, type StoreState } from '../support/invariants.js';

/** The rows expected after a successful run; `sha256: undefined` accepts any valid image. */
export type ExpectedRows = Map<string, { createdAt?: number; sha256?: string | undefined }>;

export interface Operation {
  readonly name: string;
  /** Builds the scene; returns the run, which returns the expected rows given the state before. */
  setup(models: Models, store: Store): Promise<(transaction: Transaction) => Promise<Expect>>;
}

type Expect = (before: StoreState) => ExpectedRows;

const keep = (before: StoreState, drop: (identity: string) => boolean = () => false) =>
  new Map(
    [...before.rows]
      .filter(([identity]) => !drop(identity))
      .map(([identity, row]) => [identity, { createdAt: row.createdAt, sha256: row.sha256 }]),
  ) as ExpectedRows;

export const OPERATIONS: readonly Operation[] = [
  {
    name: 'attach to an empty set',
    async setup(models, store) {
      const user = await models.User.create();
      const bytes = (await jpeg405x640(1)).bytes;
      return async (transaction) => {
        const image = await user.picture.fromBlob(bytes, { store, transaction });
        return (before) => keep(before).set(fileIdentity(image), { sha256: sha256(bytes) });
      };
    },
  },
  {
    name: 'replace an original',
    async setup(models, store) {
      const user = await models.User.create();
      await user.picture.fromBlob((await jpeg405x640(1)).bytes, { store });
      await user.picture.generateThumbnail({ width: 100 }, { store });
      const bytes = (await jpeg(30, 30)).bytes;
      return async (transaction) => {
        const image = await user.picture.fromBlob(bytes, { store, transaction });
        return () => new Map([[fileIdentity(image), { sha256: sha256(bytes) }]]);
      };
    },
  },
  {
    name: 'replace with the same size and type',
    async setup(models, store) {
      const user = await models.User.create();
      await user.picture.fromBlob((await jpeg405x640(1)).bytes, { store });
      await user.picture.generateThumbnail({ width: 100 }, { store });
      const bytes = (await jpeg405x640(2)).bytes;
      return async (transaction) => {
        const image = await user.picture.fromBlob(bytes, { store, transaction });
        return () =>
          new Map([
            [fileIdentity(image), { createdAt: image.createdAt.getTime(), sha256: sha256(bytes) }],
          ]);
      };
    },
  },
  {
    name: 'generate a thumbnail',
    async setup(models, store) {
      const user = await models.User.create();
      await user.picture.fromBlob((await jpeg405x640(1)).bytes, { store });
      return async (transaction) => {
        const thumbnail = await user.picture.generateThumbnail(
          { width: 100 },
          { store, transaction },
        );
        return (before) => keep(before).set(fileIdentity(thumbnail), { sha256: undefined });
      };
    },
  },
  {
    name: 'delete an image',
    async setup(models, store) {
      const user = await models.User.create();
      await user.picture.fromBlob((await jpeg405x640(1)).bytes, { store });
      const thumbnail = await user.picture.generateThumbnail({ width: 100 }, { store });
      return async (transaction) => {
        await thumbnail.destroy({ transaction });
        return (before) => keep(before, (identity) => identity === fileIdentity(thumbnail));
      };
    },
  },
  {
    name: 'delete a parent',
    async setup(models, store) {
      const [user, other] = [await models.User.create(), await models.User.create()];
      for (const owner of [user, other]) {
        await owner.picture.fromBlob((await jpeg405x640(owner.id)).bytes, { store });
        await owner.picture.generateThumbnail({ width: 100 }, { store });
      }
      const gone = (await user.picture.images()).map((image) => fileIdentity(image));
      return async (transaction) => {
        // Cascaded rows are loaded by Sequelize, so their store is the current one.
        await storeContext(store, () => user.destroy({ transaction }));
        return (before) => keep(before, (identity) => gone.includes(identity));
      };
    },
  },
  {
    name: 'bulk delete',
    async setup(models, store) {
      const users = [
        await models.User.create(),
        await models.User.create(),
        await models.User.create(),
      ];
      for (const user of users) {
        await user.picture.fromBlob((await jpeg405x640(user.id)).bytes, { store });
        await user.picture.generateThumbnail({ width: 50 }, { store });
      }
      const ids = [users[0]!.id, users[1]!.id];
      return async (transaction) => {
        await storeContext(store, () =>
          models.UserPicture.destroy({ where: { userId: ids }, transaction }),
        );
        return (before) =>
          keep(before, (identity) =>
            ids.some((id) => identity.startsWith(`user-picture\0${id}\0`)),
          );
      };
    },
  },
];
