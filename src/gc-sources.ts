/**
 * The two sides of gc's merge, each sorted by the UTF-8 bytes of `type/id/WxH.ext` through an
 * external sort, so that neither the listing's order (a folder walk is not key order) nor the
 * way an object id is computed (in JavaScript, by `objectIdOf`, from a UUID) matters, on any
 * dialect.
 */
import type { ModelStatic } from 'sequelize';
import { externalSort } from './external-sort.js';
import { modelImageSource } from './migration/model-source.js';
import type { Image } from './models/image.js';
import { compareUtf8, orderKeyOf } from './stores/key-order.js';
import type { ListedFile, Store } from './stores/store.js';
import type { GcImage, GcKeySpace } from './gc.js';

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

/** The store's files that `keep` keeps, in key order. */
export function sortedFiles(
  store: Store,
  tmpDir: string | undefined,
  keySpace: GcKeySpace | undefined,
  keep: (file: ListedFile) => Promise<boolean>,
): AsyncGenerator<OrderedFile> {
  // A store may skip the other types' files; `keep` filters anyway.
  const listOptions =
    keySpace !== undefined && 'objectType' in keySpace
      ? { objectTypePrefix: keySpace.objectType }
      : {};
  async function* listed(): AsyncGenerator<OrderedFile> {
    for await (const file of store.listFiles!(listOptions)) {
      if (await keep(file)) yield { order: orderKeyOf(file.key), file };
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

/** The rows of every model, in key order; `counted` is called for each row read. */
export function sortedRows(
  models: readonly ModelStatic<Image>[],
  pageSize: number,
  tmpDir: string | undefined,
  counted: () => void,
): AsyncGenerator<OrderedRow> {
  async function* read(): AsyncGenerator<OrderedRow> {
    for (const model of models) {
      for await (const row of modelImageSource(model, pageSize).images()) {
        counted();
        const image = describeRow(model, row);
        yield { order: orderKeyOf(image), image };
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
