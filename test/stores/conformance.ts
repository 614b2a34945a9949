/**
 * The package's stores run the shipped conformance suite (`sequelize-imageattach/testing`):
 * `testStore(name, setup, extras, flags)` sets a fixture up (folders, buckets, servers) and
 * cleans it away, runs the shipped tests on its store, then the store's own ones.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import type { Store } from '../../src/index.js';
import { testStore as conformance, type TestStoreOptions } from '../../src/testing.js';

export {
  generatedStream,
  readAll,
  SAMPLE_OBJECT_IDS,
  sha256Of,
  uniqueType,
} from '../../src/testing/streams.js';

export interface StoreFixture<S extends Store = Store> {
  store: S;
  /** Removes everything the fixture created (folders, buckets, servers). */
  cleanup?: () => Promise<void>;
}

export type StoreFixtureGetter<S extends Store = Store> = () => StoreFixture<S>;

export function testStore<S extends Store>(
  name: string,
  setup: () => Promise<StoreFixture<S>>,
  extras: ((fixture: StoreFixtureGetter<S>) => void) | undefined,
  flags: TestStoreOptions<S>,
): void {
  describe(name, () => {
    let fixture: StoreFixture<S> | undefined;
    const get: StoreFixtureGetter<S> = () => {
      if (fixture === undefined) throw new Error('the store fixture is not set up');
      return fixture;
    };
    // Registered before the suite's own beforeAll, so it runs first.
    beforeAll(async () => {
      fixture = await setup();
    });
    afterAll(async () => {
      await fixture?.cleanup?.();
    });
    conformance(name, () => get().store, flags);
    extras?.(get);
  });
}
