/**
 * A small real Store keeping files in a Map, for tests of the context and the helpers that
 * need a store without a backend. It validates keys exactly as the shipped stores do.
 */
import { Readable } from 'node:stream';
import { ImageNotFoundError, Store, type FileInput } from '../../src/index.js';
import { objectStorageKey, validateImageKey } from '../../src/stores/keys.js';
import { assertFileInput } from '../../src/stores/store.js';

export class MemoryStore extends Store {
  readonly files = new Map<string, Buffer>();
  /** Every primitive call, in order, as `name key` (e.g. `putFile user/1/2x3.png true`). */
  readonly calls: string[] = [];

  constructor(readonly name = 'memory') {
    super();
  }

  override async putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
  ): Promise<void> {
    assertFileInput(file);
    const key = this.#key(objectType, objectId, width, height, mimetype);
    this.calls.push(`putFile ${key} ${reproducible}`);
    const chunks: Buffer[] = [];
    if (file instanceof Uint8Array) chunks.push(Buffer.from(file));
    else for await (const chunk of file) chunks.push(Buffer.from(chunk as Uint8Array));
    this.files.set(key, Buffer.concat(chunks));
  }

  override async getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    const key = this.#key(objectType, objectId, width, height, mimetype);
    this.calls.push(`getFile ${key}`);
    await Promise.resolve();
    const bytes = this.files.get(key);
    if (bytes === undefined) throw new ImageNotFoundError(key);
    return Readable.from([bytes]);
  }

  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    const key = this.#key(objectType, objectId, width, height, mimetype);
    this.calls.push(`getUrl ${key}`);
    return `http://${this.name}.example/${key}`;
  }

  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    const key = this.#key(objectType, objectId, width, height, mimetype);
    this.calls.push(`deleteFile ${key}`);
    await Promise.resolve();
    this.files.delete(key);
  }

  #key(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return objectStorageKey(validateImageKey(objectType, objectId, width, height, mimetype));
  }
}
