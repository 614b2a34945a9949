/**
 * One original and its thumbnails: what {@link SingleImageSet} and {@link ImageSubset} share.
 * Every method takes `{ store, transaction }`; writes run atomically (in a savepoint of the
 * given or CLS transaction, or in a transaction of their own), and files follow the rows.
 */
import type { Readable } from 'node:stream';
import {
  Op,
  type Attributes,
  type CreationAttributes,
  type ModelStatic,
  type Order,
  type Sequelize,
  type Transaction,
  type WhereOptions,
} from 'sequelize';
import { resolveStore } from '../context.js';
import {
  InvalidOptionError,
  JobsNotConfiguredError,
  NoOriginalImageError,
  NotAnImageError,
  ThumbnailNotFoundError,
} from '../errors.js';
import { readImageInfo } from '../images/metadata.js';
import { PDF_MIMETYPE, pdfThumbnailSource } from '../images/pdf-source.js';
import {
  renderThumbnails,
  thumbnailDimensions,
  validateRenderOptions,
  validateThumbnailSize,
  type RenderedThumbnail,
  type ThumbnailFormat,
  type ThumbnailRenderOptions,
  type ThumbnailSize,
} from '../images/thumbnail.js';
import { mimetypeOfFormat, writableFormatOf } from '../images/formats.js';
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
import {
  findExisting,
  hasMimetypeKey,
  preferredOfSize,
  thumbnailMimetypes,
  validateFormats,
} from './thumbnail-formats.js';
import { clsTransaction, runAtomic, writeImageFile } from './transaction-files.js';
import { variantUrlOf, type VariantUrlOptions } from '../variants/variant-url.js';
import {
  setImgHTML,
  setPictureHTML,
  setSrcset,
  validateSetHTMLOptions,
  type PictureHTMLOptions,
  type SetHTMLOptions,
  type SrcsetOptions,
} from './set-html.js';
import { thumbHashOf } from '../images/placeholder.js';
import { nearestLarger } from './nearest-larger.js';
import {
  schedulerOf,
  type ImageSetAddress,
  type ThumbnailScheduler,
} from './thumbnail-scheduler.js';

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
  /**
   * `input` is a path the store may take by moving the file (an upload's staged file): a
   * file-system store on the same file system renames it instead of copying. The file is gone
   * afterwards.
   * @default false
   */
  move?: boolean;
}

export interface GenerateThumbnailOptions extends ImageSetOptions, ThumbnailRenderOptions {
  /**
   * A local file with the original's bytes (e.g. an upload just attached), read instead of the
   * store: no download, and sharp reads a file in strips instead of holding all of it. The
   * caller vouches that it is the original's file.
   */
  source?: string;
  /**
   * Thumbnails already rendered from the original with these render options (e.g. by the
   * upload's check decode), by their box: stored as they are, with no decode here. The caller
   * vouches for them.
   */
  rendered?: RenderedLookup;
  /**
   * More formats each size is also stored in, beside `format` (e.g. `['avif', 'webp']` for
   * `<picture>` and content negotiation). Needs `imageAttributes({ mimetypeInKey: true })`.
   * @default [] (each size in `format` only)
   */
  formats?: readonly ThumbnailFormat[];
}

/**
 * The library's own callers only (`attachImage`): the set's rows as this transaction left them,
 * with the set's lock held in it (an original it has just stored is the whole set), so that
 * `generateThumbnails` reads neither again.
 */
export const SET_IN_TRANSACTION = Symbol('imageattach.setInTransaction');

/** {@link GenerateThumbnailOptions} with what only the library passes. */
export interface InternalThumbnailOptions<
  I extends Image = Image,
> extends GenerateThumbnailOptions {
  [SET_IN_TRANSACTION]?: readonly I[];
}

/** What `findThumbnail` looks for. */
export interface ThumbnailQuery {
  width?: number;
  height?: number;
  /** @default any: the original, else the original's thumbnail format, else the first */
  format?: ThumbnailFormat;
}

/** Options of `findThumbnail`. */
export interface FindThumbnailOptions extends ImageSetOptions {
  /**
   * `'larger'`: while no image has the asked size (its thumbnail job has not run yet), answer
   * with the nearest larger one (the original at worst) instead of throwing. It costs a second
   * query reading the set's rows, and the client downloads and scales down a bigger file.
   * @default none (throw `ThumbnailNotFoundError`)
   */
  fallback?: 'larger';
}

/** Options of `generateThumbnailsLater`. */
export interface GenerateThumbnailsLaterOptions {
  /** @default Sequelize's CLS transaction, else a transaction of the call's own */
  transaction?: Transaction | null;
  /**
   * More formats each size is also made in, as `generateThumbnails` takes them (checked now:
   * the model needs `imageAttributes({ mimetypeInKey: true })` for more than one).
   * @default [] (each size in the original's thumbnail format only)
   */
  formats?: readonly ThumbnailFormat[];
  /** @default the `imageJobs(...)` made for the set's Sequelize */
  jobs?: ThumbnailScheduler;
}

const ORDER: Order = [
  ['original', 'DESC'],
  ['width', 'ASC'],
  ['height', 'ASC'],
  ['mimetype', 'ASC'],
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

  /** Where the set lives, for a worker in another process to find it. */
  protected abstract address(): ImageSetAddress;

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
  async findThumbnail(size: ThumbnailQuery, options: FindThumbnailOptions = {}): Promise<I> {
    const { width, height } = size ?? {};
    if (width === undefined && height === undefined) {
      throw new TypeError('required width and/or height');
    }
    if (options.fallback !== undefined && options.fallback !== 'larger') {
      throw new InvalidOptionError('fallback', "must be 'larger' or left out");
    }
    let image = await this.findBySize(size, options.transaction);
    if (image === undefined && options.fallback === 'larger') {
      const images = await this.model.findAll({
        where: this.where(),
        transaction: options.transaction ?? undefined,
      });
      const mimetype = size.format === undefined ? undefined : mimetypeOfFormat(size.format);
      image = nearestLarger(
        images.filter((candidate) => mimetype === undefined || candidate.mimetype === mimetype),
        size,
      );
    }
    if (image === undefined) throw new ThumbnailNotFoundError(width, height);
    return this.remember(image, options) as I;
  }

  private async findBySize(
    size: ThumbnailQuery,
    transaction: Transaction | null | undefined,
  ): Promise<I | undefined> {
    const criteria: Record<string, unknown> = {};
    if (size.width !== undefined) criteria.width = size.width;
    if (size.height !== undefined) criteria.height = size.height;
    if (size.format !== undefined) criteria.mimetype = mimetypeOfFormat(size.format);
    if (size.format !== undefined || !hasMimetypeKey(this.model)) {
      const image = await this.model.findOne({
        where: this.where(criteria),
        order: ORDER,
        transaction: transaction ?? undefined,
      });
      return image ?? undefined;
    }
    // Several formats of one size: which one is preferred depends on the original's type.
    const images = await this.model.findAll({
      where: this.where({ [Op.or]: [criteria, { original: true }] }),
      order: ORDER,
      transaction: transaction ?? undefined,
    });
    const matching = images.filter(
      (image) =>
        (size.width === undefined || image.width === size.width) &&
        (size.height === undefined || image.height === size.height),
    );
    return preferredOfSize(
      matching,
      images.find((image) => image.original),
    );
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
    const original = options.original ?? true;
    // Only what can be read twice: a stream goes to the store once.
    const source = typeof input === 'string' || input instanceof Uint8Array ? input : undefined;
    const values = await this.withPlaceholder(options.values, original, source, mimetype);
    return await runAtomic(this.sequelize, options.transaction, (transaction) =>
      this.insert(
        { ...options, values, width, height, mimetype, original },
        transaction,
        store,
        () =>
          options.move === true && typeof input === 'string'
            ? toFileInput(input, { movable: true })
            : toFileInput(input),
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
      const values = await this.withPlaceholder(
        options.values,
        true,
        probeable.source,
        info.mimetype,
      );
      return await runAtomic(this.sequelize, options.transaction, (transaction) =>
        this.insert(
          {
            ...options,
            values,
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

  /**
   * `values` with the original's ThumbHash when the model has a `placeholder` column (see
   * `imageAttributes({ placeholder: true })`). Decoded before the transaction begins, so the
   * write turn is not held while it is; an image sharp cannot decode gets none.
   */
  private async withPlaceholder(
    values: FromFileOptions<I>['values'],
    original: boolean,
    source: string | Uint8Array | undefined,
    mimetype: string,
  ): Promise<FromFileOptions<I>['values']> {
    if (!original || source === undefined || !('placeholder' in this.model.getAttributes())) {
      return values;
    }
    if (values !== undefined && 'placeholder' in values) return values;
    const bytes =
      typeof source === 'string' || Buffer.isBuffer(source)
        ? source
        : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    const placeholder = await thumbHashOf(bytes, mimetype).catch(() => null);
    return { ...values, placeholder } as unknown as FromFileOptions<I>['values'];
  }

  /** Inserts the row (removing the old set first for an original), then writes the file. */
  private async insert(
    row: FromRawFileOptions<I> & { original: boolean },
    transaction: Transaction,
    store: Store,
    file: () => FileInput | StoredObjectCopy | Promise<FileInput | StoredObjectCopy>,
    locked = false,
  ): Promise<I> {
    if (!locked) await this.lock(transaction);
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
    validateFormats(options.formats);
    const keyed = hasMimetypeKey(this.model);
    const store = resolveStore(options.store);
    // A call in a transaction of its own decodes before it begins: the write transaction (on
    // SQLite, the database's one write turn) then lasts for the SQL and the files only. Inside
    // the caller's transaction, the set is read there.
    const ahead =
      options.rendered === undefined &&
      (options.transaction ?? clsTransaction(this.sequelize)) === undefined
        ? await this.renderAhead(sizes, options, store)
        : undefined;
    const known = (options as InternalThumbnailOptions<I>)[SET_IN_TRANSACTION];
    return await runAtomic(this.sequelize, options.transaction, async (transaction) => {
      if (known === undefined) await this.lock(transaction);
      // The whole set in one query (a set is an original and a few thumbnails): the original,
      // and every size already made, without a query per size.
      const images =
        known ?? (await this.model.findAll({ where: this.where(), order: ORDER, transaction }));
      const original = images.find((image) => image.original);
      if (original === undefined) throw new NoOriginalImageError();
      const mimetypes = thumbnailMimetypes(this.model, original.mimetype, options);
      // What was rendered ahead is used only if the original is still the one it came from.
      const rendered =
        ahead !== undefined && sameImage(ahead.original, original) ? ahead.get : options.rendered;
      const plan = planThumbnails(images, original, sizes, mimetypes, keyed, rendered);
      const results: Array<I | undefined> = [];
      for (const [at, image] of plan.existing) results[at] = this.remember(image, { store }) as I;
      const source = () => options.source ?? original.openSource({ store, transaction });
      const pending = [...plan.pending.values()];
      const fresh = await renderPending(original.mimetype, pending, source, options);
      const made = [
        ...plan.ready.values(),
        ...pending.map(({ at }, index) => ({ rendered: fresh[index] as RenderedThumbnail, at })),
      ];
      for (const { rendered: thumbnail, at } of made) {
        const image = await this.insert(
          { ...thumbnail, original: false },
          transaction,
          store,
          () => thumbnail.data,
          true,
        );
        for (const index of at) results[index] = image;
      }
      return results as I[];
    });
  }

  /**
   * The signed URL at which `variantRouter` makes (once, when first asked) and answers this
   * size of the set; no database read.
   */
  variantUrl(options: VariantUrlOptions): string {
    return variantUrlOf(this.model, this.identity(), options);
  }

  /**
   * The thumbnails still to make, rendered from the committed original before any transaction;
   * `undefined` when there is nothing to render (the transaction then finds out why).
   */
  private async renderAhead(
    sizes: readonly ThumbnailSize[],
    options: GenerateThumbnailOptions,
    store: Store,
  ): Promise<{ original: I; get: RenderedLookup } | undefined> {
    const images = await this.model.findAll({ where: this.where(), order: ORDER });
    const original = images.find((image) => image.original);
    if (original === undefined) return undefined;
    let plan: ReturnType<typeof planThumbnails<I>>;
    try {
      const mimetypes = thumbnailMimetypes(this.model, original.mimetype, options);
      plan = planThumbnails(
        images,
        original,
        sizes,
        mimetypes,
        hasMimetypeKey(this.model),
        undefined,
      );
    } catch {
      return undefined; // a size or format refused: reported inside, as before
    }
    if (plan.pending.size === 0) return undefined;
    const pending = [...plan.pending.values()];
    let rendered: RenderedThumbnail[];
    try {
      rendered = await renderPending(
        original.mimetype,
        pending,
        () => options.source ?? original.openSource({ store }),
        options,
      );
    } catch {
      return undefined; // e.g. replaced meanwhile: the transaction reads it again
    }
    const byKey = new Map(
      rendered.map((thumbnail, at) => [
        `${boxKey(pending[at]!.box)} ${pending[at]!.mimetype}`,
        thumbnail,
      ]),
    );
    return {
      original,
      get: (width, height, mimetype) => byKey.get(`${boxKey({ width, height })} ${mimetype}`),
    };
  }

  /**
   * Thumbnails made later, by a worker of `imageJobs(...)`: records one job for the set in the
   * same transaction (a rollback drops it, a commit shows it with the rows), and resolves to
   * the thumbnails to come: each size's box in each format (the thumbnail format first). The
   * worker makes them as `generateThumbnails` does, so sizes (and formats) already there are
   * kept; when the set is gone by then, it writes nothing.
   * @throws {NoOriginalImageError} when there is no original.
   * @throws {JobsNotConfiguredError} when no `imageJobs` serves the set's Sequelize.
   */
  async generateThumbnailsLater(
    sizes: readonly ThumbnailSize[],
    options: GenerateThumbnailsLaterOptions = {},
  ): Promise<Array<{ width: number; height: number; mimetype: string }>> {
    const list: unknown = sizes;
    if (!Array.isArray(list)) throw new TypeError('sizes must be an array');
    for (const size of list) validateThumbnailSize(size);
    validateFormats(options.formats);
    const jobs = options.jobs ?? schedulerOf(this.sequelize);
    if (jobs === undefined) {
      throw new JobsNotConfiguredError(
        'No imageJobs() serves this Sequelize; create one (sequelize-imageattach/jobs) at startup.',
      );
    }
    return await runAtomic(this.sequelize, options.transaction, async (transaction) => {
      const original = await this.model.findOne({
        where: this.where({ original: true }),
        transaction,
      });
      if (original === null) throw new NoOriginalImageError();
      // Refused here, with the request, rather than by the worker after every retry.
      const mimetypes = thumbnailMimetypes(this.model, original.mimetype, options);
      if (sizes.length > 0) {
        await jobs.scheduleThumbnails(this.address(), sizes, transaction, options.formats);
      }
      return sizes.flatMap((size) => {
        const box = thumbnailDimensions(original, size);
        return mimetypes.map((mimetype) => ({ ...box, mimetype }));
      });
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

  /**
   * `srcset` of the set's images in one format, narrowest first: `'…/1.100x158.jpe?_ts=… 100w,
   * …'`, or `''` when it has none.
   */
  async srcset(options: SrcsetOptions & ImageSetOptions = {}): Promise<string> {
    validateSetHTMLOptions(options);
    return setSrcset(await this.images(options), options);
  }

  /**
   * `<img src srcset sizes width height …>` of the set, escaped: `srcset` lists every width
   * of the original's format when the set has more than one; `''` when the set is empty.
   */
  async toHTML(options: SetHTMLOptions & ImageSetOptions = {}): Promise<string> {
    validateSetHTMLOptions(options);
    return setImgHTML(await this.images(options), options);
  }

  /**
   * `<picture>` with a `<source type srcset sizes>` for each of `formats` the set has sizes
   * in (see `generateThumbnails`' `formats`), then the set's `<img>`; `''` when it is empty.
   */
  async toPictureHTML(options: PictureHTMLOptions & ImageSetOptions = {}): Promise<string> {
    validateSetHTMLOptions(options);
    return setPictureHTML(await this.images(options), options);
  }
}

type Box = { width: number; height: number };

/** A thumbnail rendered ahead, by its box and type (a lookup may ignore the type). */
export type RenderedLookup = (
  width: number,
  height: number,
  mimetype: string,
) => RenderedThumbnail | undefined;

function boxKey(box: Box): string {
  return `${box.width}x${box.height}`;
}

/** Whether two rows are the same original: same size, type and date (a replacement is later). */
function sameImage(a: Image, b: Image): boolean {
  return (
    a.width === b.width &&
    a.height === b.height &&
    a.mimetype === b.mimetype &&
    a.createdAt.getTime() === b.createdAt.getTime()
  );
}

/**
 * What each size asked for becomes: an image the set has (`existing`, by index), one rendered
 * ahead (`ready`), or a box still to render (`pending`); the same box asked twice is made once.
 */
function planThumbnails<I extends Image>(
  images: readonly I[],
  original: I,
  sizes: readonly ThumbnailSize[],
  mimetypes: readonly string[],
  keyed: boolean,
  rendered: RenderedLookup | undefined,
) {
  const existing = new Map<number, I>();
  const ready = new Map<string, { rendered: RenderedThumbnail; at: number[] }>();
  const pending = new Map<string, { box: Box; mimetype: string; at: number[] }>();
  for (const [at, size] of sizes.entries()) {
    const box = thumbnailDimensions(original, size);
    for (const [index, mimetype] of mimetypes.entries()) {
      // `at` lists the results a thumbnail answers: those of the first format only.
      const answers = index === 0 ? [at] : [];
      // An image of the asked side first (it may be the original), then of the exact box.
      const found = findExisting(images, size, box, keyed ? mimetype : undefined);
      if (found !== undefined) {
        if (index === 0) existing.set(at, found);
        continue;
      }
      const key = `${boxKey(box)} ${mimetype}`;
      const ahead = rendered?.(box.width, box.height, mimetype);
      const done = ready.get(key)?.rendered ?? (ahead?.mimetype === mimetype ? ahead : undefined);
      if (done !== undefined) {
        const entry = ready.get(key) ?? { rendered: done, at: [] };
        entry.at.push(...answers);
        ready.set(key, entry);
        continue;
      }
      const entry = pending.get(key) ?? { box, mimetype, at: [] };
      entry.at.push(...answers);
      pending.set(key, entry);
    }
  }
  return { existing, ready, pending };
}

/**
 * Renders the boxes still to make, each in its own format, from one decode of the original;
 * a PDF's from its first page, rendered once for all of them.
 */
async function renderPending(
  originalMimetype: string,
  pending: readonly { box: Box; mimetype: string }[],
  source: () => Promise<string | Readable | Buffer> | string | Readable | Buffer,
  options: GenerateThumbnailOptions,
): Promise<RenderedThumbnail[]> {
  if (pending.length === 0) return [];
  const boxes = pending.map(({ box, mimetype }) => ({
    ...box,
    format: writableFormatOf(mimetype) as ThumbnailFormat,
  }));
  if (originalMimetype === PDF_MIMETYPE) {
    const page = await pdfThumbnailSource(await source(), boxes);
    return await renderThumbnails(boxes, originalMimetype, () => page, options);
  }
  return await renderThumbnails(boxes, originalMimetype, source, options);
}
