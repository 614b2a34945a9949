// The `sequelize-imageattach/testing` entry: the Store conformance suite (it imports Vitest, an
// optional peer dependency, so it lives apart from the core) and an in-memory store.
export { testStore } from './testing/test-store.js';
export type { TestStoreOptions } from './testing/test-store.js';
export type { PlacedSource, TestStoreCopyOptions } from './testing/copy-tests.js';
export { MemoryStore } from './testing/memory-store.js';
export type { MemoryStoreOptions } from './testing/memory-store.js';
