/**
 * The Image mixin: the columns every image table has, and what an image row can do with its
 * file. Users subclass {@link Image} with their own primary key column(s) pointing at the
 * parent, spread {@link imageAttributes} into `init`, and attach it with `imageAttachment`.
 */
import { access, constants } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DataTypes,
  literal,
  Model,
  type ModelAttributeColumnOptions,
  type ModelStatic,
  type NonAttribute,
  type Sequelize,
  type Transaction,
} from 'sequelize';
import { resolveStore } from '../context.js';
import { ImageNotFoundError, InvalidOptionError, ObjectIdError } from '../errors.js';
import type { Store } from '../stores/store.js';
import { createdAtColumn, installCreatedAtHooks, markDefaultColumn } from './created-at.js';
import { keyLockModel } from './file-locks.js';
import { installImageHooks, type ImageDestroyOptions } from './image-hooks.js';
import { imgHTML, validateImgOptions, type ImgAttributeOptions } from './image-html.js';
import { microsecondsOf } from './precise-time.js';
import { stagedJournalModel } from './staged-journal.js';
import { usedUploadTokenModel } from './used-upload-tokens.js';
import { clsTransaction, stagedKeyOf, type FileKey } from './transaction-files.js';

export interface ImageAttributesOptions {
  /**
   * The column name of `createdAt`.
   * @default 'created_at' (the column of SQLAlchemy-ImageAttach)
   */
  createdAtField?: string;
  /**
   * Put `mimetype` in the primary key, beside `width` and `height`, so one size can be kept in
   * several formats (`generateThumbnails(sizes, { formats: ['avif', 'webp'] })`). For new
   * tables: SQLAlchemy-ImageAttach keys on (parent, width, height) only, so once a size has
   * several formats its `find_thumbnail` and `generate_thumbnail` of that size raise
   * `MultipleResultsFound` (see the README's table of `imageAttributes()` options).
   * @default false (the original's schema)
   */
  mimetypeInKey?: boolean;
  /**
   * Add a `placeholder` column: a ThumbHash of the original (about 25 bytes, base64), filled
   * when the original is stored, that `toHTML({ placeholder: true })` paints until the image
   * loads. A column the original's tables do not have.
   * @default false
   */
  placeholder?: boolean;
}

/** The columns {@link imageAttributes} contributes. */
export interface ImageColumns {
  width: ModelAttributeColumnOptions;
  height: ModelAttributeColumnOptions;
  mimetype: ModelAttributeColumnOptions;
  original: ModelAttributeColumnOptions;
  createdAt: ModelAttributeColumnOptions;
  /** Only with `imageAttributes({ placeholder: true })`. */
  placeholder?: ModelAttributeColumnOptions;
}

/** What `openFile`, `makeBlob`, `locate` and `toHTML` take. */
export interface StoreOption {
  /** @default the current store (see `storeContext` and `store.middleware()`) */
  store?: Store;
}

/** What an image's `toHTML` takes. */
export interface ImageHTMLOptions extends StoreOption, ImgAttributeOptions {}

/** What `openFile` and `makeBlob` take. */
export interface ImageReadOptions extends StoreOption {
  /**
   * The transaction to read as: inside the transaction that wrote it, an image replacing
   * another of the same size and type reads its new bytes, which only take the key at commit.
   * @default Sequelize's CLS transaction, if any
   */
  transaction?: Transaction | null;
}

/**
 * The columns of the mixin, to spread into `init`: `width` and `height` (both in the primary
 * key), `mimetype`, `original` and `createdAt` (column `created_at`), exactly the columns of a
 * table written by SQLAlchemy-ImageAttach.
 *
 * @example
 * UserPicture.init({ userId: { type: DataTypes.INTEGER, primaryKey: true }, ...imageAttributes() },
 *   { sequelize, tableName: 'user_picture' });
 */
export function imageAttributes(options: ImageAttributesOptions = {}): ImageColumns {
  const createdAtField = options.createdAtField ?? 'created_at';
  if (typeof createdAtField !== 'string' || createdAtField === '') {
    throw new InvalidOptionError('createdAtField', 'must be a non-empty string');
  }
  const mimetypeInKey = booleanOption('mimetypeInKey', options.mimetypeInKey);
  const placeholder = booleanOption('placeholder', options.placeholder);
  return {
    width: { type: DataTypes.INTEGER, primaryKey: true, allowNull: false },
    height: { type: DataTypes.INTEGER, primaryKey: true, allowNull: false },
    mimetype: { type: DataTypes.STRING(255), primaryKey: mimetypeInKey, allowNull: false },
    original: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    // DATETIME(6) on MySQL and MariaDB, set by `init` (see `createdAtColumn`).
    createdAt: markDefaultColumn({
      type: DataTypes.DATE,
      allowNull: false,
      field: createdAtField,
      // The database's clock, as the original's now(); image sets write the exact time.
      defaultValue: literal('CURRENT_TIMESTAMP'),
    }),
    ...(placeholder ? { placeholder: { type: DataTypes.STRING(64), allowNull: true } } : {}),
  };
}

function booleanOption(name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidOptionError(name, `must be a boolean, not ${JSON.stringify(value)}`);
  }
  return value ?? false;
}

/** Primary key columns that are never part of an image's identity (mimetype when keyed). */
const SIZE_ATTRIBUTES = new Set(['width', 'height', 'mimetype']);
const UUID_PATTERN = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * Base class of image models. Subclass it, add the parent's key column(s), and `init` it with
 * {@link imageAttributes}. `init` defaults `timestamps` to `false` (the table has only
 * `created_at`), installs the hooks that delete files after the rows' transaction commits, and
 * defines the library's staged-file journal on the same Sequelize (`sync()` creates its table;
 * see `createImageAttachTables`).
 *
 * @example
 * class UserPicture extends Image { declare userId: number }
 */
export abstract class Image<
  TAttributes extends object = Record<string, unknown>,
  TCreationAttributes extends object = TAttributes,
> extends Model<TAttributes, TCreationAttributes> {
  declare width: number;
  declare height: number;
  declare mimetype: string;
  declare original: boolean;
  declare createdAt: Date;
  /** A ThumbHash of the original, base64 (see `imageAttributes({ placeholder: true })`). */
  declare placeholder?: string | null;

  /**
   * The microseconds of `createdAt`'s second (0–999999), as the database keeps them: a `Date`
   * holds milliseconds only, and the `_ts=` of `locate()` prints microseconds, as
   * SQLAlchemy-ImageAttach does. Known for rows this library inserted or read (image sets and
   * finds on the image model, on SQLite and PostgreSQL); otherwise `createdAt`'s milliseconds
   * × 1000.
   */
  get createdAtMicroseconds(): NonAttribute<number> {
    const createdAt: unknown = this.getDataValue('createdAt' as keyof TAttributes);
    return createdAt instanceof Date ? microsecondsOf(createdAt) : Number.NaN;
  }

  /**
   * The object type of stored files. Defaults to the table name with `_` turned into `-`
   * (`user_picture` → `user-picture`); override it when you rename the table, since the
   * storage keys use it.
   */
  static objectType: string | undefined;

  /**
   * Computes the object id of an image whose key the default cannot use (a composite key, a
   * string): set it with `imageAttachment`'s `objectId` option (e.g. `pairObjectId('postId',
   * 'orderIndex')`), or here. It must return a bigint, and different keys different ids.
   */
  static objectIdOf: ((image: Image<object, object>) => bigint) | undefined;

  /** Names of the primary key attributes that identify the parent (and subset), not the size. */
  static identityAttributes(this: ModelStatic<Image>): string[] {
    return this.primaryKeyAttributes.filter((name) => !SIZE_ATTRIBUTES.has(name));
  }

  /** The object type of this image's files (see the static `objectType`). */
  get objectType(): NonAttribute<string> {
    const model = this.constructor as typeof Image & ModelStatic<Image>;
    return model.objectType ?? model.tableName.replace(/_/g, '-');
  }

  /**
   * The integer object id of this image's files: the model's `objectIdOf(image)` when it has
   * one, else the single integer primary key (besides width and height), or a UUID's 128-bit
   * value. Set `objectIdOf` (or override the getter) for anything else.
   * @throws {ObjectIdError} when the key is composite or neither an integer nor a UUID.
   */
  get objectId(): NonAttribute<bigint> {
    const model = this.constructor as ModelStatic<Image> & typeof Image;
    if (model.objectIdOf !== undefined) {
      const id: unknown = model.objectIdOf(this);
      if (typeof id !== 'bigint') {
        throw objectIdError(model, `its objectIdOf returned ${typeof id}, not a bigint`);
      }
      return id;
    }
    const names = model.identityAttributes();
    const name = names[0];
    if (names.length !== 1 || name === undefined) {
      throw objectIdError(model, `its primary key has ${names.length} columns besides the size`);
    }
    const value: unknown = this.getDataValue(name as keyof TAttributes);
    const type = (model.getAttributes() as Record<string, { type?: unknown } | undefined>)[name]
      ?.type;
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    if (typeof value === 'string') {
      // BIGINT columns arrive as strings from most dialects.
      if (type instanceof DataTypes.UUID || UUID_PATTERN.test(value)) {
        if (UUID_PATTERN.test(value)) return BigInt(`0x${value.replace(/-/g, '')}`);
      } else if (isIntegerType(type) && /^-?\d+$/.test(value)) {
        return BigInt(value);
      }
    }
    throw objectIdError(model, `its key ${name} is ${JSON.stringify(String(value))}`);
  }

  /** `[width, height]` (read-only: both are primary key columns). */
  get size(): NonAttribute<[number, number]> {
    return [this.width, this.height];
  }

  /**
   * Deletes the row; its file goes after the transaction commits (at once without one). The
   * store is `options.imageStore`, else the store the image was loaded with through a set, else
   * the current store.
   */
  override destroy(options?: ImageDestroyOptions): Promise<void> {
    return super.destroy(options);
  }

  /** Opens the stored file; rejects with `ImageNotFoundError` when it is missing. */
  openFile(options: ImageReadOptions = {}): Promise<Readable> {
    const store = resolveStore(options.store);
    const key = this.#readKey(store, options);
    if (key === this) return store.open(this);
    return store.getFile(key.objectType, key.objectId, key.width, key.height, key.mimetype);
  }

  /**
   * The stored file as sharp reads it fastest: its path when the store keeps it on this
   * machine, else an open stream. Rejects with `ImageNotFoundError` when it is missing.
   */
  async openSource(options: ImageReadOptions = {}): Promise<string | Readable> {
    const store = resolveStore(options.store);
    if (store.localPath === undefined) return this.openFile(options);
    const key = this.#readKey(store, options);
    const path = store.localPath(key.objectType, key.objectId, key.width, key.height, key.mimetype);
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      throw new ImageNotFoundError(path, { cause: error });
    }
    return path;
  }

  /** Where this image's bytes are read from: the staged copy while its transaction has one. */
  #readKey(store: Store, options: ImageReadOptions): FileKey | this {
    const transaction =
      options.transaction === undefined
        ? clsTransaction((this.constructor as ModelStatic<Image>).sequelize!)
        : options.transaction;
    if (transaction === null || transaction === undefined) return this;
    return stagedKeyOf(transaction, store, this) ?? this;
  }

  /** The stored file's bytes. */
  async makeBlob(options: ImageReadOptions = {}): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.openFile(options)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /** The file's URL with the `_ts=` cache-buster (no I/O). */
  locate(options: StoreOption = {}): string {
    const store = resolveStore(options.store);
    if (!store.urlsAreStable) return store.locate(this);
    // Pages locate the same rows over and over; the URL stays valid while the columns it is
    // made from stay the same. Named reads only: keyed reads of dataValues cost several times more.
    const data = this.dataValues as LocatedColumns;
    const memo = this.#located;
    if (
      memo !== undefined &&
      memo.store === store &&
      memo.width === data.width &&
      memo.height === data.height &&
      memo.mimetype === data.mimetype &&
      memo.original === data.original &&
      memo.createdAt === data.createdAt &&
      memo.id === data[memo.idName]
    ) {
      return memo.url;
    }
    const url = store.locate(this);
    const idName = defaultObjectIdAttribute(this.constructor as ModelStatic<Image>);
    // A model that computes objectId its own way may use any column: nothing is remembered.
    if (idName !== undefined) {
      const { width, height, mimetype, original, createdAt } = data;
      this.#located = {
        store,
        width,
        height,
        mimetype,
        original,
        createdAt,
        idName,
        id: data[idName],
        url,
      };
    }
    return url;
  }

  /** The URL `locate` made last, with the store and the column values it was made from. */
  #located: LocatedUrl | undefined;

  /**
   * `<img src="…" width="…" height="…">`, every attribute escaped, with the attributes asked
   * for (`alt`, `loading`, `placeholder`, …); a set's `toHTML` adds `srcset` and `sizes`.
   */
  toHTML(options: ImageHTMLOptions = {}): string {
    validateImgOptions(options);
    const placeholder = this.placeholder;
    return imgHTML(
      { src: this.locate(options), width: this.width, height: this.height, placeholder },
      options,
    );
  }
}

// `init` keeps Model.init's exact (generic) type; only its behaviour is extended.
const modelInit: unknown = Reflect.get(Model, 'init');
Object.defineProperty(Image, 'init', {
  configurable: true,
  writable: true,
  value: function initImage(this: ModelStatic<Image>, attributes: object, options: object) {
    const dialect = (options as { sequelize?: Sequelize }).sequelize?.getDialect();
    const columns = attributes as Record<string, unknown>;
    const createdAt = columns.createdAt;
    if (dialect !== undefined && typeof createdAt === 'object' && createdAt !== null) {
      attributes = {
        ...columns,
        createdAt: createdAtColumn(createdAt as ModelAttributeColumnOptions, dialect),
      };
    }
    const model = (modelInit as (this: unknown, a: object, o: object) => ModelStatic<Image>).call(
      this,
      attributes,
      { timestamps: false, ...options },
    );
    installImageHooks(model);
    installCreatedAtHooks(model);
    // So that `sequelize.sync()` creates the staged-file journal with the image tables.
    stagedJournalModel(model.sequelize!);
    keyLockModel(model.sequelize!); // MySQL and MariaDB only
    usedUploadTokenModel(model.sequelize!); // direct uploads' single use
    return model;
  },
});

function isIntegerType(type: unknown): boolean {
  return (
    type instanceof DataTypes.INTEGER ||
    type instanceof DataTypes.BIGINT ||
    type instanceof DataTypes.SMALLINT ||
    type instanceof DataTypes.MEDIUMINT ||
    type instanceof DataTypes.TINYINT
  );
}

function objectIdError(model: ModelStatic<Image>, why: string): ObjectIdError {
  return new ObjectIdError(
    `${model.name} cannot derive objectId: ${why}. Give imageAttachment an objectId option, ` +
      "e.g. `objectId: pairObjectId('postId', 'orderIndex')`, returning a bigint.",
  );
}

interface LocatedColumns extends Record<string, unknown> {
  width?: unknown;
  height?: unknown;
  mimetype?: unknown;
  original?: unknown;
  createdAt?: unknown;
}

interface LocatedUrl {
  store: Store;
  width: unknown;
  height: unknown;
  mimetype: unknown;
  original: unknown;
  createdAt: unknown;
  idName: string;
  id: unknown;
  url: string;
}

// Compared by identity only, never called.
// eslint-disable-next-line @typescript-eslint/unbound-method
const defaultObjectId = Object.getOwnPropertyDescriptor(Image.prototype, 'objectId')?.get;

/**
 * The integer attribute whose value is the object id of every row (the default `objectId` of
 * a single integer key), or `undefined` when the id is computed (a UUID, `objectIdOf`, an
 * overridden getter): only then can SQL select rows by their object id.
 */
export function integerObjectIdAttribute(model: ModelStatic<Image>): string | undefined {
  const name = defaultObjectIdAttribute(model);
  if (name === undefined) return undefined;
  const type = (model.getAttributes() as Record<string, { type?: unknown } | undefined>)[name]
    ?.type;
  return isIntegerType(type) ? name : undefined;
}

/**
 * The attribute the default `objectId` reads, or `undefined` when the model overrides
 * `objectId` or has no single identity attribute.
 */
function defaultObjectIdAttribute(model: ModelStatic<Image>): string | undefined {
  if ((model as ModelStatic<Image> & typeof Image).objectIdOf !== undefined) return undefined;
  let prototype: object | null = model.prototype as object;
  while (prototype !== null && prototype !== Image.prototype) {
    const own = Object.getOwnPropertyDescriptor(prototype, 'objectId');
    if (own !== undefined && own.get !== defaultObjectId) return undefined;
    prototype = Object.getPrototypeOf(prototype) as object | null;
  }
  const names = (model as ModelStatic<Image> & typeof Image).identityAttributes();
  return names.length === 1 ? names[0] : undefined;
}
