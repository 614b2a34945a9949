/**
 * A file-system store that serves its own folder: `store.middleware()` makes the store current
 * and serves the images under `/{prefix}/`. URLs are built from the request being served.
 */
import { currentRequest, runRequestInStore } from '../context-storage.js';
import { InvalidOptionError, UrlUnavailableError } from '../errors.js';
import { normalizePrefix, serveImages, type ServeImagesOptions } from '../middleware/serve.js';
import { requestOrigin } from '../request-host.js';
import { BaseFileSystemStore, type BaseFileSystemStoreOptions } from './fs.js';
import type { Middleware } from './store.js';

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
  /** Made once, so its options are checked here and one hot cache serves every mount. */
  readonly #serve: Middleware;

  constructor(options: HttpExposedFileSystemStoreOptions) {
    super(options);
    this.prefix = normalizePrefix(options.prefix ?? 'images/');
    if (options.hostUrlGetter !== undefined && typeof options.hostUrlGetter !== 'function') {
      throw new InvalidOptionError('hostUrlGetter', 'must be a function returning a URL');
    }
    if (options.cors !== undefined && typeof options.cors !== 'boolean') {
      throw new InvalidOptionError('cors', 'must be a boolean');
    }
    this.#hostUrlGetter = options.hostUrlGetter;
    this.cors = options.cors ?? false;
    this.#serve = serveImages({
      root: this.path,
      prefix: this.prefix,
      cors: this.cors,
      hotCache: options.hotCache,
      offload: options.offload,
      internalLocation: options.internalLocation,
      negotiate: options.negotiate,
    });
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
    return `${requestOrigin(request.req)}${request.mountPath}/${this.prefix}/`;
  }

  /** Serves the images under `/{prefix}/` and runs every other request with this store current. */
  override middleware(): Middleware {
    const serve = this.#serve;
    return (req, res, next) => {
      serve(req, res, (err?: unknown) => {
        if (err !== undefined) next(err);
        else runRequestInStore(this, req, next);
      });
    };
  }
}
