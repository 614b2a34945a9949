/**
 * The hooks `Image.init` installs on every image model, so that files follow rows however a
 * row is deleted: `image.destroy()`, a parent's cascade through `imageAttachment`, or a bulk
 * `Model.destroy({ where })` (turned into individual hooks here).
 */
import type { DestroyOptions, InstanceDestroyOptions, Model, ModelStatic } from 'sequelize';
import { getCurrentStore } from '../context.js';
import { assertStore, type Store } from '../stores/store.js';
import {
  clsTransaction,
  deleteCommittedImageFile,
  noteImageDeleted,
  type ImageRow,
} from './transaction-files.js';
import { joinTurns } from './write-turns.js';

/**
 * What destroy options may add: the store holding the files, when no store is current and
 * the image was not loaded through an image set.
 */
export interface ImageDestroyOptions extends InstanceDestroyOptions {
  imageStore?: Store;
}

/** Rows being inserted by an image set, which writes their file right after. */
const insertable = new WeakSet<object>();
/** The store an image was loaded or created with, for a later `destroy()`. */
const storeOfImage = new WeakMap<object, Store>();
/** The store resolved before the DELETE, used after it. */
const deleting = new WeakMap<object, Store>();
const installed = new WeakSet<object>();

export function allowInsert(image: Model): void {
  insertable.add(image);
}

export function rememberStore(image: Model, store: Store): void {
  storeOfImage.set(image, store);
}

export function installImageHooks(model: ModelStatic<Model>): void {
  if (installed.has(model)) return;
  installed.add(model);
  model.addHook('beforeCreate', 'imageattach', (image: Model) => {
    if (!insertable.has(image)) throw unmanagedInsert(model);
    insertable.delete(image);
  });
  model.addHook('beforeBulkCreate', 'imageattach', () => {
    throw unmanagedInsert(model);
  });
  model.addHook('beforeBulkDestroy', 'imageattach', (options: DestroyOptions) => {
    // Without them, a bulk DELETE would leave every file behind.
    options.individualHooks = true;
  });
  model.addHook(
    'beforeDestroy',
    'imageattach',
    async (image: Model, options: ImageDestroyOptions) => {
      // Resolved before the DELETE so that a missing store fails before anything is deleted.
      const store = options.imageStore ?? storeOfImage.get(image) ?? getCurrentStore();
      assertStore(store, 'imageStore');
      // SQLite: the DELETE writes in its transaction's turn (a no-op for IMMEDIATE ones).
      const transaction = options.transaction ?? clsTransaction(model.sequelize!);
      if (transaction) await joinTurns(model.sequelize!, transaction);
      deleting.set(image, store);
    },
  );
  model.addHook(
    'afterDestroy',
    'imageattach',
    async (image: Model, options: InstanceDestroyOptions) => {
      const store = deleting.get(image);
      if (store === undefined) return;
      deleting.delete(image);
      const transaction = options.transaction ?? clsTransaction(model.sequelize!);
      const row = image as ImageRow;
      if (transaction === undefined || transaction === null) {
        // The DELETE ran in autocommit mode: it is committed already.
        await deleteCommittedImageFile(model.sequelize!, store, row);
      } else {
        await noteImageDeleted(transaction, store, row);
      }
    },
  );
}

function unmanagedInsert(model: ModelStatic<Model>): TypeError {
  return new TypeError(
    `${model.name} rows are created with their file by an image set (fromFile, fromBlob, ` +
      'fromRawFile, generateThumbnail), never by create() or bulkCreate().',
  );
}
