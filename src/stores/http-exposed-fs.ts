/**
 * A file-system store whose folder is served over HTTP: it declares the folder, prefix and
 * serving options as its `servedFolder`, and `store.middleware()` (the HTTP layer) serves the
 * images under `/{prefix}/` and makes the store current. URLs are built from the request being
 * served.
 */
import { currentRequest } from '../context-storage.js';
import { InvalidOptionError, UrlUnavailableError } from '../errors.js';
import { resolveServedFolder, type ServedFolder, type ServeImagesOptions } from '../http/serve.js';
import { BaseFileSystemStore, type BaseFileSystemStoreOptions } from './fs.js';

export interface HttpExposedFileSystemStoreOptions extends BaseFileSystemStoreOptions {
  /**
   * The URL path the images are served under.
   * @default 'images/'
   */
  prefix?: string;
  /**
   * Returns the scheme and host of URLs (e.g. `https://example.com/`), for code that runs
   * outside a request (jobs, scripts) or behind a proxy that rewrites the host.
   * Without it, URLs are built from the current request's protocol and Host, honouring
   * Express's `trust proxy` setting.
   */
  hostUrlGetter?: () => string;
  /**
   * Serve with `Access-Control-Allow-Origin: *`.
   * @default false
   */
  cors?: boolean;
  /**
   * Answer small files from memory (see {@link ServeImagesOptions.hotCache}).
   * @default true
   */
  hotCache?: ServeImagesOptions['hotCache'];
  /**
   * Let nginx or Apache in front send the files (see {@link ServeImagesOptions.offload}).
   * @default undefined
   */
  offload?: ServeImagesOptions['offload'];
  /**
   * The nginx `internal` location for `offload: 'x-accel-redirect'`.
   * @default '/_internal/{prefix}/'
   */
  internalLocation?: string;
  /**
   * Answer AVIF or WebP siblings to the browsers that ask for them (see
   * {@link ServeImagesOptions.negotiate}).
   * @default false
   */
  negotiate?: boolean;
}

/**
 * @example
 * const store = new HttpExposedFileSystemStore({ path: 'var/images' });
 * app.use(store.middleware()); // serves /images/… and makes the store current
 */
export class HttpExposedFileSystemStore extends BaseFileSystemStore {
  /** The URL path the images are served under, without leading or trailing `/`. */
  readonly prefix: string;
  readonly cors: boolean;
  readonly #hostUrlGetter: (() => string) | undefined;
  /** Resolved once, so its options are checked here and one hot cache serves every mount. */
  readonly #served: ServedFolder;

  constructor(options: HttpExposedFileSystemStoreOptions) {
    super(options);
    this.#served = resolveServedFolder({
      root: this.path,
      prefix: options.prefix ?? 'images/',
      cors: options.cors,
      hotCache: options.hotCache,
      offload: options.offload,
      internalLocation: options.internalLocation,
      negotiate: options.negotiate,
    });
    if (options.hostUrlGetter !== undefined && typeof options.hostUrlGetter !== 'function') {
      throw new InvalidOptionError('hostUrlGetter', 'must be a function returning a URL');
    }
    this.#hostUrlGetter = options.hostUrlGetter;
    this.prefix = this.#served.prefix;
    this.cors = this.#served.cors;
  }

  /** The store's folder, served under `/{prefix}/` by `middleware()`. */
  override get servedFolder(): ServedFolder {
    return this.#served;
  }

  protected override baseUrl(): string {
    if (this.#hostUrlGetter !== undefined) {
      const host = this.#hostUrlGetter();
      return `${host}${host.endsWith('/') ? '' : '/'}${this.prefix}/`;
    }
    const request = currentRequest();
    if (request === undefined) {
      throw new UrlUnavailableError(
        'HttpExposedFileSystemStore builds image URLs from the current request, and there is ' +
          'none. Mount app.use(store.middleware()) before the code that locates images, or give ' +
          "the store a hostUrlGetter, e.g. { hostUrlGetter: () => 'https://example.com/' }.",
      );
    }
    return `${request.origin()}${request.mountPath}/${this.prefix}/`;
  }
}
