/**
 * One original and its thumbnails: what {@link SingleImageSet} and {@link ImageSubset} share.
 * Every method takes `{ store, transaction }`; writes run atomically (in a savepoint of the
 * given or CLS transaction, or in a transaction of their own), and files follow the rows.
 */
import type { Readable } from 'node:stream';
import type {
  Attributes,
  CreationAttributes,
  ModelStatic,
  Order,
  Sequelize,
  Transaction,
  WhereOptions,
} from 'sequelize';
import { resolveStore } from '../context.js';
import { NoOriginalImageError, NotAnImageError, ThumbnailNotFoundError } from '../errors.js';
import { readImageInfo } from '../images/metadata.js';
import {
  DecodedImage,
  renderThumbnail,
  thumbnailDimensions,
  validateRenderOptions,
  validateThumbnailSize,
  type RenderedThumbnail,
  type ThumbnailRenderOptions,
  type ThumbnailSize,
} from '../images/thumbnail.js';
import { extensionFor } from '../stores/keys.js';
import type { StoredObjectCopy } from '../stores/copy-source.js';
import type { FileInput, Store } from '../stores/store.js';
import { allowInsert, rememberStore } from './image-hooks.js';
import {
  streamOf,
  toFileInput,
  toProbeable,
  type ImageFileInput,
  type RawFileInput,
} from './image-input.js';
import type { Image } from './image.js';
import { runAtomic, writeImageFile } from './transaction-files.js';

/** What every set method takes. */
export interface ImageSetOptions {
  /** @default the current store */
  store?: Store;
  /** @default Sequelize's CLS transaction, else a transaction of the call's own */
  transaction?: Transaction | null;
}

/** Options of `fromFile` and `fromBlob`. */
export interface FromFileOptions<I extends Image = Image> extends ImageSetOptions {
  /** Other columns of the new row; the set's own keys win over them. */
  values?: Partial<CreationAttributes<I>>;
}

/** Options of `fromRawFile`: what the caller already knows about the file. */
export interface FromRawFileOptions<I extends Image = Image> extends FromFileOptions<I> {
  width: number;
  height: number;
  mimetype: string;
  /** @default true (false records a thumbnail) */
  original?: boolean;
}

export interface GenerateThumbnailOptions extends ImageSetOptions, ThumbnailRenderOptions {
  /**
   * A local file with the original's bytes (e.g. an upload just attached), read instead of the
   * store: no download, and sharp reads a file in strips instead of holding all of it. The
   * caller vouches that it is the original's file.
   */
  source?: string;
}

const ORDER: Order = [
  ['original', 'DESC'],
  ['width', 'ASC'],
  ['height', 'ASC'],
];

export abstract class BaseImageSet<I extends Image> {
  /** The Sequelize of the parent model, for transactions spanning several calls. */
  readonly sequelize: Sequelize;

  protected constructor(
    /** The image model. */
    readonly model: ModelStatic<I>,
    sequelize: Sequelize,
  ) {
    this.sequelize = sequelize;
  }

  /** The column values every row of this set has (the parent key, and a subset's criteria). */
  protected abstract identity(): Record<string, unknown>;

  /** Makes concurrent writers of this set's parent take turns (see `ParentLink.lock`). */
  protected abstract lock(transaction: Transaction): Promise<void>;

  private where(extra: Record<string, unknown> = {}): WhereOptions<Attributes<I>> {
    return { ...this.identity(), ...extra } as WhereOptions<Attributes<I>>;
  }

  private remember(image: I | null, options: ImageSetOptions): I | null {
    if (image !== null && options.store !== undefined) rememberStore(image, options.store);
    return image;
  }

  /**
   * The object type and id the set's files are stored under, with or without images (what a
   * direct upload's token names).
   */
  fileOwner(): { objectType: string; objectId: bigint } {
    const probe = this.model.build(this.identity() as CreationAttributes<I>);
    return { objectType: probe.objectType, objectId: probe.objectId };
  }

  /** Every image of the set: the original first, then thumbnails by size. */
  async images(options: ImageSetOptions = {}): Promise<I[]> {
    const images = await this.model.findAll({
      where: this.where(),
      order: ORDER,
      transaction: options.transaction ?? undefined,
    });
    for (const image of images) this.remember(image, options);
    return images;
  }

  /** How many images (original and thumbnails) the set has. */
  count(options: ImageSetOptions = {}): Promise<number> {
    return this.model.count({ where: this.where(), transaction: options.transaction ?? undefined });
  }

  /** The original image, or `null`. */
  async original(options: ImageSetOptions = {}): Promise<I | null> {
    const image = await this.model.findOne({
      where: this.where({ original: true }),
      transaction: options.transaction ?? undefined,
    });
    return this.remember(image, options);
  }

  /** @throws {NoOriginalImageError} when the set has no original. */
  async requireOriginal(options: ImageSetOptions = {}): Promise<I> {
    const image = await this.original(options);
    if (image === null) throw new NoOriginalImageError();
    return image;
  }

  /**
   * The image of the given width and/or height (the original too, when it matches).
   * @throws {TypeError} when neither is given.
   * @throws {ThumbnailNotFoundError} when the set has none.
   */
  async findThumbnail(
    size: { width?: number; height?: number },
    options: ImageSetOptions = {},
  ): Promise<I> {
    const { width, height } = size ?? {};
    if (width === undefined && height === undefined) {
      throw new TypeError('required width and/or height');
    }
    const image = await this.findBySize(size, options.transaction);
    if (image === null) throw new ThumbnailNotFoundError(width, height);
    return this.remember(image, options) as I;
  }

  private findBySize(
    size: { width?: number; height?: number },
    transaction: Transaction | null | undefined,
  ): Promise<I | null> {
    const criteria: Record<string, unknown> = {};
    if (size.width !== undefined) criteria.width = size.width;
    if (size.height !== undefined) criteria.height = size.height;
    return this.model.findOne({
      where: this.where(criteria),
      order: ORDER,
      transaction: transaction ?? undefined,
    });
  }

  /**
   * Attaches a file without probing it: the caller vouches for its size and type. As an
   * original (the default) it replaces the whole set, thumbnails included, at commit.
   */
  async fromRawFile(input: RawFileInput, options: FromRawFileOptions<I>): Promise<I> {
    const { width, height, mimetype } = options ?? {};
    for (const [name, value] of [
      ['width', width],
      ['height', height],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new TypeError(`${name} must be a positive integer, not ${String(value)}`);
      }
    }
    if (typeof mimetype !== 'string') throw new TypeError('mimetype must be a string');
    extensionFor(mimetype);
    const store = resolveStore(options.store);
    return await runAtomic(this.sequelize, options.transaction, (transaction) =>
      this.insert(
        { ...options, width, height, mimetype, original: options.original ?? true },
        transaction,
        store,
        () => toFileInput(input),
      ),
    );
  }

  /** Attaches the bytes of an image, probed with sharp; see {@link fromFile}. */
  async fromBlob(blob: Buffer | Uint8Array, options: FromFileOptions<I> = {}): Promise<I> {
    if (!(blob instanceof Uint8Array)) throw new TypeError('blob must be a Buffer');
    return await this.fromFile(blob, options);
  }

  /**
   * Attaches an image as the set's original, byte for byte: a stream, a path, bytes or a
   * multer file. Its type and size are read from its header; the old set is removed at commit.
   * @throws {NotAnImageError} when the bytes are not an image of a known type.
   */
  async fromFile(input: ImageFileInput, options: FromFileOptions<I> = {}): Promise<I> {
    const store = resolveStore(options.store);
    const probeable = await toProbeable(input);
    try {
      const info = await readImageInfo(probeable.source);
      try {
        extensionFor(info.mimetype);
      } catch (error) {
        throw new NotAnImageError(`Images of type ${info.mimetype} cannot be stored.`, {
          cause: error,
        });
      }
      return await runAtomic(this.sequelize, options.transaction, (transaction) =>
        this.insert(
          {
            ...options,
            width: info.width,
            height: info.height,
            mimetype: info.mimetype,
            original: true,
          },
          transaction,
          store,
          () => streamOf(probeable.source),
        ),
      );
    } finally {
      await probeable.release();
    }
  }

  /** Inserts the row (removing the old set first for an original), then writes the file. */
  private async insert(
    row: FromRawFileOptions<I> & { original: boolean },
    transaction: Transaction,
    store: Store,
    file: () => FileInput | StoredObjectCopy | Promise<FileInput | StoredObjectCopy>,
  ): Promise<I> {
    await this.lock(transaction);
    // The database's clock dates the row (see created-at.ts); this is only a lower bound.
    let createdAt = 0;
    if (row.original) {
      // The old rows must be gone before the new one takes the same primary key.
      for (const old of await this.model.findAll({ where: this.where(), transaction })) {
        // A replacement is dated after its predecessor, so its URL (`_ts`) changes even on a
        // clock that stood still. Nothing decides a file's fate by this time (see
        // staged-journal.ts).
        createdAt = Math.max(createdAt, old.createdAt.getTime() + 1);
        await old.destroy({ transaction, imageStore: store });
      }
    }
    const image = this.model.build({
      ...row.values,
      ...this.identity(),
      width: row.width,
      height: row.height,
      mimetype: row.mimetype,
      original: row.original,
      createdAt: new Date(createdAt),
    } as unknown as CreationAttributes<I>);
    allowInsert(image);
    await image.save({ transaction });
    await writeImageFile(transaction, store, image, await file());
    rememberStore(image, store);
    return image;
  }

  /**
   * A thumbnail of the original: `{ width }`, `{ height }` or `{ ratio }`, the other side as
   * SQLAlchemy-ImageAttach computes it. An image of that size already in the set is returned
   * instead of a new one.
   * @throws {NoOriginalImageError} when there is no original.
   */
  async generateThumbnail(size: ThumbnailSize, options: GenerateThumbnailOptions = {}): Promise<I> {
    const [thumbnail] = await this.generateThumbnails([size], options);
    return thumbnail as I;
  }

  /**
   * Several thumbnails of the original, decoding it once; in one transaction, so either all
   * are made or none.
   */
  async generateThumbnails(
    sizes: readonly ThumbnailSize[],
    options: GenerateThumbnailOptions = {},
  ): Promise<I[]> {
    const list: unknown = sizes;
    if (!Array.isArray(list)) throw new TypeError('sizes must be an array');
    for (const size of list) validateThumbnailSize(size);
    validateRenderOptions(options);
    const store = resolveStore(options.store);
    return await runAtomic(this.sequelize, options.transaction, async (transaction) => {
      await this.lock(transaction);
      // The whole set in one query (a set is an original and a few thumbnails): the original,
      // and every size already made, without a query per size.
      const images = await this.model.findAll({ where: this.where(), order: ORDER, transaction });
      const original = images.find((image) => image.original);
      if (original === undefined) throw new NoOriginalImageError();
      const results: Array<I | undefined> = [];
      // Sizes still to render, by their exact box: the same box asked twice is made once.
      const pending = new Map<string, { box: { width: number; height: number }; at: number[] }>();
      for (const [at, size] of sizes.entries()) {
        const box = thumbnailDimensions(original, size);
        // An image of the asked side first (it may be the original), then of the exact box.
        const existing = findExisting(images, size, box);
        if (existing !== undefined) {
          results[at] = this.remember(existing, { store }) as I;
          continue;
        }
        const key = `${box.width}x${box.height}`;
        const entry = pending.get(key) ?? { box, at: [] };
        entry.at.push(at);
        pending.set(key, entry);
      }
      const source = () => options.source ?? original.openSource({ store, transaction });
      let decoded: DecodedImage | undefined;
      if (pending.size > 1) {
        // One decode for all, shrunk while decoding to the largest box: memory follows the
        // thumbnails' size, not the original's.
        const boxes = [...pending.values()].map((entry) => entry.box);
        decoded = await DecodedImage.decode(await source(), original.mimetype, {
          width: Math.max(...boxes.map((box) => box.width)),
          height: Math.max(...boxes.map((box) => box.height)),
        });
      }
      for (const { box, at } of pending.values()) {
        const rendered: RenderedThumbnail =
          decoded === undefined
            ? await renderThumbnail(
                await source(),
                original.mimetype,
                box.width,
                box.height,
                options,
              )
            : await decoded.render(box.width, box.height, options);
        const image = await this.insert(
          { ...rendered, original: false },
          transaction,
          store,
          () => rendered.data,
        );
        for (const index of at) results[index] = image;
      }
      return results as I[];
    });
  }

  /** Opens the original's file. @throws {NoOriginalImageError} */
  async openFile(options: ImageSetOptions = {}): Promise<Readable> {
    return (await this.requireOriginal(options)).openFile(options);
  }

  /** The original's bytes. @throws {NoOriginalImageError} */
  async makeBlob(options: ImageSetOptions = {}): Promise<Buffer> {
    return (await this.requireOriginal(options)).makeBlob(options);
  }

  /** The original's URL. @throws {NoOriginalImageError} */
  async locate(options: ImageSetOptions = {}): Promise<string> {
    return (await this.requireOriginal(options)).locate(options);
  }

  /** `<img …>` of the original, or `''` when the set is empty. */
  async toHTML(options: ImageSetOptions = {}): Promise<string> {
    const original = await this.original(options);
    return original === null ? '' : original.toHTML(options);
  }
}

/**
 * The image a thumbnail request is answered with, as the original does: one with the asked
 * side first (it may be the original), else one of the exact box.
 */
function findExisting<I extends Image>(
  images: readonly I[],
  size: ThumbnailSize,
  box: { width: number; height: number },
): I | undefined {
  const matches = (image: I, wanted: { width?: number; height?: number }) =>
    (wanted.width === undefined || image.width === wanted.width) &&
    (wanted.height === undefined || image.height === wanted.height);
  const side =
    size.width !== undefined
      ? { width: size.width }
      : size.height !== undefined
        ? { height: size.height }
        : undefined;
  return (
    (side === undefined ? undefined : images.find((image) => matches(image, side))) ??
    images.find((image) => matches(image, box))
  );
}
