/**
 * The two sides of gc's merge, each sorted by the UTF-8 bytes of `type/id/WxH.ext` through an
 * external sort, so that neither the listing's order (a folder walk is not key order) nor the
 * way an object id is computed (in JavaScript, by `objectIdOf`, from a UUID) matters, on any
 * dialect.
 */
import type { ModelStatic, WhereOptions } from 'sequelize';
import { externalSort } from './external-sort.js';
import { idColumnWhere } from './gc-key-ranges.js';
import { modelImageSource } from './migration/model-source.js';
import { integerObjectIdAttribute, type Image } from './models/image.js';
import { compareUtf8, orderKeyOf } from './stores/key-order.js';
import type { ListedFile, ListFilesOptions, Store } from './stores/store.js';
import type { GcImage } from './gc.js';

/** Items sorted in memory at once: about 10 MiB; ten million files make 500 runs. */
const RUN_SIZE = 20_000;

export interface Ordered {
  readonly order: string;
}

export interface OrderedFile extends Ordered {
  readonly file: ListedFile;
}

export interface OrderedRow extends Ordered {
  readonly image: GcImage;
}

const byOrder = (a: Ordered, b: Ordered) => compareUtf8(a.order, b.order);

/**
 * The store's files whose key starts with `keyPrefix` (all without one) and that `keep`
 * keeps, in key order.
 */
export function sortedFiles(
  store: Store,
  tmpDir: string | undefined,
  keyPrefix: string | undefined,
  keep: (file: ListedFile) => Promise<boolean>,
): AsyncGenerator<OrderedFile> {
  // A store may list more than the prefix asks for: filtered here anyway.
  const listOptions: ListFilesOptions =
    keyPrefix === undefined
      ? {}
      : { objectTypePrefix: keyPrefix.slice(0, keyPrefix.indexOf('/')), keyPrefix };
  async function* listed(): AsyncGenerator<OrderedFile> {
    for await (const file of store.listFiles!(listOptions)) {
      const order = orderKeyOf(file.key);
      if (keyPrefix !== undefined && !order.startsWith(keyPrefix)) continue;
      if (await keep(file)) yield { order, file };
    }
  }
  return externalSort(listed(), {
    compare: byOrder,
    runSize: RUN_SIZE,
    tmpDir,
    encode: ({ order, file }) => [
      order,
      file.key.objectType,
      String(file.key.objectId),
      file.key.width,
      file.key.height,
      file.key.mimetype,
      file.name,
      file.size,
      file.modifiedAt.getTime(),
      file.temporary,
    ],
    decode: (data) => {
      const [order, objectType, objectId, width, height, mimetype, name, size, time, temporary] =
        data as [string, string, string, number, number, string, string, number, number, boolean];
      const key = { objectType, objectId: BigInt(objectId), width, height, mimetype };
      return { order, file: { key, name, size, modifiedAt: new Date(time), temporary } };
    },
  });
}

/**
 * The rows of every model whose key starts with `type/` + `idPrefix` (all without one), in key
 * order; `counted` is called for each. An integer id column is restricted in SQL; an id
 * computed in JavaScript (`objectIdOf`, a UUID) is checked row by row.
 */
export function sortedRows(
  models: readonly ModelStatic<Image>[],
  pageSize: number,
  tmpDir: string | undefined,
  idPrefix: string | undefined,
  counted: () => void,
): AsyncGenerator<OrderedRow> {
  async function* read(): AsyncGenerator<OrderedRow> {
    for (const model of models) {
      const column = idPrefix === undefined ? undefined : integerObjectIdAttribute(model);
      const where: WhereOptions<Image> =
        column === undefined ? {} : idColumnWhere(column, idPrefix!);
      for await (const row of modelImageSource<Image>(model, pageSize, where).images()) {
        const image = describeRow(model, row);
        const order = orderKeyOf(image);
        if (idPrefix !== undefined && !order.startsWith(`${image.objectType}/${idPrefix}`)) {
          continue;
        }
        counted();
        yield { order, image };
      }
    }
  }
  return externalSort(read(), {
    compare: byOrder,
    runSize: RUN_SIZE,
    tmpDir,
    encode: ({ order, image }) => [
      order,
      image.model,
      image.objectType,
      String(image.objectId),
      image.width,
      image.height,
      image.mimetype,
      image.original,
    ],
    decode: (data) => {
      const [order, model, objectType, objectId, width, height, mimetype, original] = data as [
        string,
        string,
        string,
        string,
        number,
        number,
        string,
        boolean,
      ];
      const image = { model, objectType, objectId: BigInt(objectId), width, height, mimetype };
      return { order, image: { ...image, original } };
    },
  });
}

function describeRow(model: ModelStatic<Image>, row: Image): GcImage {
  return {
    model: model.name,
    objectType: row.objectType,
    objectId: row.objectId,
    width: row.width,
    height: row.height,
    mimetype: row.mimetype,
    original: row.original,
  };
}

/** An iterator one item of which can be looked at before it is taken. */
export interface Peekable<T> {
  peek(): Promise<T | undefined>;
  take(): Promise<T | undefined>;
  /** Stops the iterator early, running its cleanup. */
  close(): Promise<void>;
}

export function peekable<T>(iterator: AsyncIterator<T>): Peekable<T> {
  let head: Promise<IteratorResult<T>> | undefined;
  const peek = async () => {
    head ??= iterator.next();
    const result = await head;
    return result.done === true ? undefined : result.value;
  };
  return {
    peek,
    async take() {
      const value = await peek();
      if (value !== undefined) head = undefined;
      return value;
    },
    async close() {
      await iterator.return?.();
    },
  };
}
