/**
 * The current store. `storeContext(store, fn)` makes a store current for everything `fn` does,
 * including its async continuations; `store.middleware()` does the same for a request.
 * Built on AsyncLocalStorage: concurrent requests never see each other's store.
 */
import type { Readable } from 'node:stream';
import { contextStorage, currentFrame, runInFrame } from './context-storage.js';
import { ContextError } from './errors.js';
import { assertStore, Store, type FileInput, type Middleware } from './stores/store.js';

/**
 * Runs `fn` with `store` current and returns what it returns: a sync function's result or
 * exception synchronously, an async function's as its promise. The outer store is current
 * again afterwards, also when `fn` throws or rejects.
 *
 * @example
 * await storeContext(store, async () => {
 *   await user.picture.fromFile('avatar.jpg');
 * });
 */
export function storeContext<T>(store: Store, fn: () => T): T {
  const resolved = store === currentStore ? getCurrentStore() : store;
  assertStore(resolved);
  if (typeof fn !== 'function') throw new TypeError('fn must be a function');
  return runInFrame(resolved, currentFrame()?.request, fn);
}

/**
 * The current store.
 * @throws {ContextError} outside any store context.
 */
export function getCurrentStore(): Store {
  const frame = currentFrame();
  if (frame === undefined) throw new ContextError();
  return frame.store;
}

/**
 * Makes `store` current for the rest of this async context, for frameworks whose hooks
 * cannot wrap a callback (a "before" hook pushes, an "after" hook pops). Prefer
 * {@link storeContext}, which cannot be left unbalanced.
 */
export function pushStoreContext(store: Store): void {
  const resolved = store === currentStore ? getCurrentStore() : store;
  assertStore(resolved);
  const parent = currentFrame();
  contextStorage.enterWith({ store: resolved, parent, request: parent?.request, pushed: true });
}

/**
 * Undoes the last {@link pushStoreContext} of this async context and returns its store.
 * @throws {ContextError} when the innermost store was not pushed (none at all, or one made
 * current by `storeContext` or a middleware).
 */
export function popStoreContext(): Store {
  const frame = currentFrame();
  // A frame of storeContext() or a middleware ends with its callback; popping it would leave
  // the rest of the callback in the wrong store.
  if (frame?.pushed !== true) {
    throw new ContextError('popStoreContext() without a matching pushStoreContext().');
  }
  contextStorage.enterWith(frame.parent as NonNullable<typeof frame.parent>);
  return frame.store;
}

/** A store that forwards every call to the store current when the call is made. */
class CurrentStore extends Store {
  // The async primitives reject (never throw) outside a context, like any promise API.
  override async putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
  ): Promise<void> {
    return await getCurrentStore().putFile(
      file,
      objectType,
      objectId,
      width,
      height,
      mimetype,
      reproducible,
    );
  }

  override async getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    return await getCurrentStore().getFile(objectType, objectId, width, height, mimetype);
  }

  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return getCurrentStore().getUrl(objectType, objectId, width, height, mimetype);
  }

  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    return await getCurrentStore().deleteFile(objectType, objectId, width, height, mimetype);
  }

  override middleware(): Middleware {
    throw new TypeError('currentStore has no middleware of its own; use the real store’s.');
  }

  override toString(): string {
    return 'currentStore';
  }
}

/**
 * A `Store` that stands for whichever store is current, usable as a default argument.
 * Calls made outside a context throw {@link ContextError}.
 */
export const currentStore: Store = new CurrentStore();

/** Resolves `currentStore` (or `undefined`) to the real current store; other stores as given. */
export function resolveStore(store: Store | undefined): Store {
  if (store === undefined || store === currentStore) return getCurrentStore();
  assertStore(store);
  return store;
}
