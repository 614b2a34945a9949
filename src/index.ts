export {
  ContextError,
  ImageAttachError,
  ImageNotFoundError,
  InvalidOptionError,
  InvalidStoreUrlError,
  MigrationError,
  MigrationImageError,
  MigrationRunningError,
  StoreError,
  UrlUnavailableError,
  VerificationError,
} from './errors.js';
export type { FailedImageKey, ImageAttachErrorOptions } from './errors.js';
export {
  currentStore,
  getCurrentStore,
  popStoreContext,
  pushStoreContext,
  resolveStore,
  storeContext,
} from './context.js';
export { assertStore, cacheBuster, Store } from './stores/store.js';
export type { FileInput, ImageLike, Middleware, StoredFileStat } from './stores/store.js';
export { EXTENSIONS, extensionFor } from './stores/keys.js';
export type { ImageKey } from './stores/keys.js';
export { BaseFileSystemStore, FileSystemStore } from './stores/fs.js';
export type { BaseFileSystemStoreOptions, FileSystemStoreOptions } from './stores/fs.js';
export { HttpExposedFileSystemStore } from './stores/http-exposed-fs.js';
export type { HttpExposedFileSystemStoreOptions } from './stores/http-exposed-fs.js';
export { MirrorStore } from './stores/mirror.js';
export type { MirrorStoreOptions } from './stores/mirror.js';
export { serveImages } from './middleware/serve.js';
export type { ServeImagesOptions } from './middleware/serve.js';
