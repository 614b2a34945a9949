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

export interface StoreFixture {
  store: Store;
  /** Removes everything the fixture created (folders, buckets, servers). */
  cleanup?: () => Promise<void>;
}

export type StoreFixtureGetter = () => StoreFixture;

export function testStore(
  name: string,
  setup: () => Promise<StoreFixture>,
  extras: ((fixture: StoreFixtureGetter) => void) | undefined,
  flags: TestStoreOptions,
): void {
  describe(name, () => {
    let fixture: StoreFixture | undefined;
    const get: StoreFixtureGetter = () => {
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
