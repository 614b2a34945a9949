import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ContextError, getCurrentStore, storeContext, type Store } from '../src/index.js';
import { currentStore, popStoreContext, pushStoreContext, resolveStore } from '../src/context.js';
import { readAll } from './stores/conformance.js';
import { MemoryStore } from './support/memory-store.js';

/** The error `fn` throws synchronously (fails the test when it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectNoStore(): void {
  const error = thrown(getCurrentStore);
  expect(error).toBeInstanceOf(ContextError);
  expect((error as ContextError).code).toBe('E_NO_STORE_CONTEXT');
}

/**
 * Runs `fn` in a fresh macrotask, so that `pushStoreContext` (AsyncLocalStorage's enterWith)
 * cannot leak into the test runner's own context.
 */
function isolated<T>(fn: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    setImmediate(() => {
      Promise.resolve().then(fn).then(resolve, reject);
    });
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const a = new MemoryStore('a');
const b = new MemoryStore('b');

describe('storeContext', () => {
  it('returns a sync function’s result synchronously, with the store current inside', () => {
    const result = storeContext(a, () => {
      expect(getCurrentStore()).toBe(a);
      return 42;
    });
    expect(result).toBe(42);
    expectNoStore();
  });

  it('throws a sync function’s exception synchronously and restores the outer store', () => {
    const failure = new Error('boom');
    storeContext(a, () => {
      expect(() =>
        storeContext(b, () => {
          throw failure;
        }),
      ).toThrow(failure);
      expect(getCurrentStore()).toBe(a);
    });
    expect(() =>
      storeContext(a, () => {
        throw failure;
      }),
    ).toThrow(failure);
    expectNoStore();
  });

  it('returns an async function’s promise, keeping the store across its awaits', async () => {
    const promise = storeContext(a, async () => {
      await sleep(1);
      expect(getCurrentStore()).toBe(a);
      await nextTurn();
      return getCurrentStore();
    });
    expect(promise).toBeInstanceOf(Promise);
    expectNoStore();
    expect(await promise).toBe(a);
    expectNoStore();
  });

  it('restores the outer store after an async function rejects', async () => {
    const failure = new Error('rejected');
    await storeContext(a, async () => {
      await expect(
        storeContext(b, async () => {
          await sleep(1);
          expect(getCurrentStore()).toBe(b);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(getCurrentStore()).toBe(a);
    });
    await expect(storeContext(a, () => Promise.reject(failure))).rejects.toBe(failure);
    expectNoStore();
  });

  it('nests, restoring each outer store in turn', () => {
    storeContext(a, () => {
      expect(getCurrentStore()).toBe(a);
      storeContext(b, () => {
        expect(getCurrentStore()).toBe(b);
        storeContext(a, () => expect(getCurrentStore()).toBe(a));
        expect(getCurrentStore()).toBe(b);
      });
      expect(getCurrentStore()).toBe(a);
    });
    expectNoStore();
  });

  it('takes currentStore to mean the store current now', () => {
    storeContext(a, () => {
      storeContext(currentStore, () => expect(getCurrentStore()).toBe(a));
    });
    expect(() => storeContext(currentStore, () => 0)).toThrow(ContextError);
  });

  it('refuses a non-store and a non-function with TypeErrors', () => {
    expect(() => storeContext({} as Store, () => 0)).toThrow(/store must be a Store/);
    expect(() => storeContext(null as unknown as Store, () => 0)).toThrow(TypeError);
    expect(() => storeContext(a, 'fn' as unknown as () => 0)).toThrow(/fn must be a function/);
  });
});

describe('getCurrentStore and resolveStore', () => {
  it('throw ContextError (E_NO_STORE_CONTEXT, status 500) outside any context', () => {
    const error = thrown(getCurrentStore);
    expect(error).toBeInstanceOf(ContextError);
    expect((error as ContextError).code).toBe('E_NO_STORE_CONTEXT');
    expect((error as ContextError).status).toBe(500);
    expect(() => resolveStore(undefined)).toThrow(ContextError);
    expect(() => resolveStore(currentStore)).toThrow(ContextError);
  });

  it('resolveStore gives an explicit store as is and refuses non-stores', () => {
    expect(resolveStore(b)).toBe(b);
    storeContext(a, () => {
      expect(resolveStore(undefined)).toBe(a);
      expect(resolveStore(currentStore)).toBe(a);
      expect(resolveStore(b)).toBe(b);
    });
    expect(() => resolveStore({} as Store)).toThrow(TypeError);
  });
});

describe('currentStore', () => {
  const image = {
    objectType: 'user',
    objectId: 1234,
    width: 100,
    height: 80,
    mimetype: 'image/jpeg',
    original: true,
    createdAt: new Date(Date.UTC(2017, 9, 10, 12, 34, 56, 789)),
  };

  it('forwards all four primitives to the store current at the call', async () => {
    const store = new MemoryStore('forward');
    const other = new MemoryStore('other');
    await storeContext(store, async () => {
      await currentStore.putFile(Buffer.from('bytes'), 'user', 1234, 100, 80, 'image/jpeg', true);
      const file = await currentStore.getFile('user', 1234, 100, 80, 'image/jpeg');
      expect((await readAll(file)).toString()).toBe('bytes');
      expect(currentStore.getUrl('user', 1234, 100, 80, 'image/jpeg')).toBe(
        'http://forward.example/user/1234/100x80.jpe',
      );
      await currentStore.deleteFile('user', 1234, 100, 80, 'image/jpeg');
    });
    expect(store.calls).toEqual([
      'putFile user/1234/100x80.jpe true',
      'getFile user/1234/100x80.jpe',
      'getUrl user/1234/100x80.jpe',
      'deleteFile user/1234/100x80.jpe',
    ]);
    expect(store.files.size).toBe(0);
    expect(other.calls).toEqual([]);
  });

  it('gives the helpers built on the primitives too', async () => {
    const store = new MemoryStore('helpers');
    await storeContext(store, async () => {
      await currentStore.store(image, Buffer.from('original'));
      expect((await readAll(await currentStore.open(image))).toString()).toBe('original');
      expect(currentStore.locate(image)).toBe(
        'http://helpers.example/user/1234/100x80.jpe?_ts=20171010123456789000',
      );
      await currentStore.delete(image);
    });
    expect(store.calls[0]).toBe('putFile user/1234/100x80.jpe false');
    expect(store.files.size).toBe(0);
  });

  it('fails with ContextError outside a context: async primitives reject, getUrl throws', async () => {
    const args = ['user', 1, 1, 1, 'image/png'] as const;
    await expect(currentStore.putFile(Buffer.from('x'), ...args, false)).rejects.toBeInstanceOf(
      ContextError,
    );
    await expect(currentStore.getFile(...args)).rejects.toBeInstanceOf(ContextError);
    await expect(currentStore.deleteFile(...args)).rejects.toBeInstanceOf(ContextError);
    expect(() => currentStore.getUrl(...args)).toThrow(ContextError);
    expect(() => currentStore.locate(image)).toThrow(ContextError);
    await expect(currentStore.open(image)).rejects.toMatchObject({ code: 'E_NO_STORE_CONTEXT' });
  });

  it('is a Store with no middleware of its own', () => {
    expect(() => currentStore.middleware()).toThrow(TypeError);
    expect((currentStore as { toString(): string }).toString()).toBe('currentStore');
  });
});

describe('pushStoreContext and popStoreContext', () => {
  it('push, push, pop, pop, like the original’s test_push_pop', () =>
    isolated(() => {
      pushStoreContext(a);
      expect(getCurrentStore()).toBe(a);
      pushStoreContext(b);
      expect(getCurrentStore()).toBe(b);
      expect(popStoreContext()).toBe(b);
      expect(getCurrentStore()).toBe(a);
      expect(popStoreContext()).toBe(a);
      expectNoStore();
    }));

  it('pop without a push throws ContextError, also inside storeContext', () =>
    isolated(() => {
      const error = thrown(popStoreContext);
      expect(error).toBeInstanceOf(ContextError);
      expect((error as ContextError).code).toBe('E_NO_STORE_CONTEXT');
      storeContext(a, () => {
        expect(popStoreContext).toThrow(ContextError);
        expect(getCurrentStore()).toBe(a);
        pushStoreContext(b);
        expect(popStoreContext()).toBe(b);
        expect(popStoreContext).toThrow(ContextError);
        expect(getCurrentStore()).toBe(a);
      });
      expectNoStore();
    }));

  it('keeps a pushed store across awaits until it is popped', () =>
    isolated(async () => {
      pushStoreContext(a);
      await sleep(1);
      expect(getCurrentStore()).toBe(a);
      await nextTurn();
      expect(popStoreContext()).toBe(a);
      expectNoStore();
    }));

  it('refuses a non-store', () =>
    isolated(() => {
      expect(() => pushStoreContext('store' as unknown as Store)).toThrow(TypeError);
      expectNoStore();
    }));
});

describe('concurrent async tasks', () => {
  it('never see each other’s store across interleaved setTimeout and setImmediate awaits', async () => {
    const seen: string[] = [];
    const aStarted = deferred();
    const bStarted = deferred();
    const aStepped = deferred();
    const bStepped = deferred();
    const record = (label: string) =>
      seen.push(`${label}:${(getCurrentStore() as MemoryStore).name}`);

    const taskA = storeContext(a, async () => {
      aStarted.resolve();
      await bStarted.promise; // resolved from inside B's context
      record('a1');
      await sleep(5);
      record('a2');
      aStepped.resolve();
      await bStepped.promise;
      await nextTurn();
      record('a3');
    });
    const taskB = storeContext(b, async () => {
      bStarted.resolve();
      await aStarted.promise; // resolved from inside A's context
      record('b1');
      await nextTurn();
      record('b2');
      await aStepped.promise;
      record('b3');
      bStepped.resolve();
      await sleep(1);
      record('b4');
    });
    await Promise.all([taskA, taskB]);
    expect(seen.filter((s) => s.startsWith('a'))).toEqual(['a1:a', 'a2:a', 'a3:a']);
    expect(seen.filter((s) => s.startsWith('b'))).toEqual(['b1:b', 'b2:b', 'b3:b', 'b4:b']);
    // The steps really did interleave: B ran between A's first and last step.
    expect(seen.indexOf('b3:b')).toBeGreaterThan(seen.indexOf('a1:a'));
    expect(seen.indexOf('b3:b')).toBeLessThan(seen.indexOf('a3:a'));
    expectNoStore();
  });

  it('keep pushes apart', async () => {
    const gate = deferred();
    const task = (store: MemoryStore, wait: Promise<void>, open?: () => void) =>
      isolated(async () => {
        pushStoreContext(store);
        open?.();
        await wait;
        await nextTurn();
        const current = getCurrentStore();
        popStoreContext();
        return current;
      });
    const [first, second] = await Promise.all([
      task(a, gate.promise),
      task(b, Promise.resolve(), gate.resolve),
    ]);
    expect(first).toBe(a);
    expect(second).toBe(b);
  });
});
