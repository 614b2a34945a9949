/**
 * How a worker finds the stores a distributed migration names: a name registered in this
 * process with `migrationStores(sequelize, { name: store })`, else a store URL
 * (`file:///…?baseUrl=…`, `s3://…`) opened once per process.
 */
import type { Sequelize } from 'sequelize';
import { InvalidOptionError } from '../errors.js';
import { storeFromUrl } from '../stores/store-url.js';
import { assertStore, type Store } from '../stores/store.js';

const named = new WeakMap<Sequelize, Map<string, Store>>();
const opened = new Map<string, Promise<Store>>();

/**
 * Names stores for the distributed migrations this process works on (the names the admin
 * router or `distribute({ from, to })` used). Names that look like store URLs need no entry.
 *
 * @example
 * migrationStores(sequelize, { disk: diskStore, s3: s3Store }); // in every worker process
 */
export function migrationStores(
  sequelize: Sequelize,
  stores: Readonly<Record<string, Store>>,
): void {
  if (typeof stores !== 'object' || stores === null) {
    throw new InvalidOptionError('stores', 'must be an object of named stores');
  }
  let map = named.get(sequelize);
  if (map === undefined) named.set(sequelize, (map = new Map<string, Store>()));
  for (const [name, store] of Object.entries(stores)) {
    assertStore(store, `stores.${name}`);
    map.set(name, store);
  }
}

/** The store a migration names: registered, or opened from its URL. */
export function resolveMigrationStore(sequelize: Sequelize, name: string): Promise<Store> {
  const store = named.get(sequelize)?.get(name);
  if (store !== undefined) return Promise.resolve(store);
  let pending = opened.get(name);
  if (pending === undefined) {
    pending = storeFromUrl(name);
    opened.set(name, pending);
    pending.catch(() => opened.delete(name));
  }
  return pending;
}
