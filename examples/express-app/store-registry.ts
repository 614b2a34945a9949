/**
 * The stores the app knows: the active one (where uploads go and image URLs point) and any
 * the admin added as migration targets, each under a short name. Switching the active store
 * takes effect for the next request.
 */
import { storeFromUrl, type Middleware, type Store } from '../../src/index.js';
import { redactUrl } from './database.js';

export interface NamedStore {
  /** `main` for the configured store, `store-2`, `store-3`… for added ones. */
  name: string;
  /** The store URL without credentials, for pages and logs. */
  label: string;
  store: Store;
}

export class StoreRegistry {
  readonly #stores = new Map<string, NamedStore>();
  readonly #byUrl = new Map<string, string>();
  readonly #middlewares = new WeakMap<Store, Middleware>();
  #active: NamedStore;

  constructor(store: Store, url: string) {
    this.#active = { name: 'main', label: redactUrl(url), store };
    this.#stores.set('main', this.#active);
    this.#byUrl.set(url, 'main');
  }

  get active(): NamedStore {
    return this.#active;
  }

  list(): NamedStore[] {
    return [...this.#stores.values()];
  }

  get(name: string): NamedStore | undefined {
    return this.#stores.get(name);
  }

  /** The stores by name, as `migrationRouter` takes them. */
  record(): Record<string, Store> {
    return Object.fromEntries(this.list().map(({ name, store }) => [name, store]));
  }

  /**
   * The store of a URL, built once; the same URL gives the same name.
   * @throws {InvalidStoreUrlError} when the URL names no store.
   */
  async add(url: string): Promise<NamedStore> {
    const known = this.#byUrl.get(url);
    if (known !== undefined) return this.#stores.get(known)!;
    const store = await storeFromUrl(url);
    // Checked again after the await: two requests may add the same URL at once.
    const raced = this.#byUrl.get(url);
    if (raced !== undefined) return this.#stores.get(raced)!;
    const entry = { name: `store-${this.#stores.size + 1}`, label: redactUrl(url), store };
    this.#stores.set(entry.name, entry);
    this.#byUrl.set(url, entry.name);
    return entry;
  }

  activate(name: string): NamedStore {
    const entry = this.#stores.get(name);
    if (entry === undefined) throw new RangeError(`no store is named ${name}`);
    this.#active = entry;
    return entry;
  }

  /** Runs each request with the active store current (and serving its files, if it does). */
  middleware(): Middleware {
    return (req, res, next) => {
      const { store } = this.#active;
      let middleware = this.#middlewares.get(store);
      if (middleware === undefined) {
        middleware = store.middleware();
        this.#middlewares.set(store, middleware);
      }
      middleware(req, res, next);
    };
  }
}
