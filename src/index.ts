export {
  ContextError,
  ImageAttachError,
  ImageNotFoundError,
  InvalidOptionError,
  InvalidStoreUrlError,
  JournalTableMissingError,
  MigrationError,
  MigrationImageError,
  MigrationRunningError,
  NoOriginalImageError,
  NotAnImageError,
  ObjectIdError,
  OrphanFileWarning,
  StoreError,
  ThumbnailNotFoundError,
  UrlUnavailableError,
  VerificationError,
} from './errors.js';
export type { FailedImageKey, ImageAttachErrorOptions, MigrationSummary } from './errors.js';
export {
  currentStore,
  getCurrentStore,
  popStoreContext,
  pushStoreContext,
  resolveStore,
  storeContext,
} from './context.js';
export { assertStore, cacheBuster, Store } from './stores/store.js';
export type {
  FileInput,
  ImageLike,
  ListedFile,
  ListFilesOptions,
  Middleware,
  StoredFileStat,
} from './stores/store.js';
export { EXTENSIONS, extensionFor } from './stores/keys.js';
export type { ImageKey } from './stores/keys.js';
export { BaseFileSystemStore, FileSystemStore } from './stores/fs.js';
export type { BaseFileSystemStoreOptions, FileSystemStoreOptions } from './stores/fs.js';
export { HttpExposedFileSystemStore } from './stores/http-exposed-fs.js';
export type { HttpExposedFileSystemStoreOptions } from './stores/http-exposed-fs.js';
export { MirrorStore } from './stores/mirror.js';
export type { MirrorStoreOptions } from './stores/mirror.js';
export { storeFromUrl } from './store-url.js';
export { defaultConcurrency, MigrationPlan } from './migration/plan.js';
export { imageModelsOf, migrate, migrateClass } from './migration/migrate.js';
export type { ImageModel } from './migration/migrate.js';
export type {
  MigrationFailureJson,
  MigrationState,
  MigrationStatusJson,
} from './migration/tracker.js';
export { migrationRouter } from './middleware/migration-router.js';
export type { MigrationRouterOptions, StartMigrationBody } from './middleware/migration-router.js';
export { chainSources, modelImageSource } from './migration/model-source.js';
export type {
  ImageSource,
  MigrationEvents,
  MigrationOptions,
  MigrationProgress,
  MigrationReport,
  MigrationStatus,
} from './migration/types.js';
export { Image, imageAttributes } from './models/image.js';
export type {
  ImageAttributesOptions,
  ImageColumns,
  ImageReadOptions,
  StoreOption,
} from './models/image.js';
export { DEFAULT_STAGED_GRACE_PERIOD, recoverStagedFiles } from './models/recover.js';
export { createImageAttachTables, STAGED_JOURNAL_TABLE } from './models/staged-journal.js';
export type { RecoverStagedFilesOptions, RecoverStagedFilesReport } from './models/recover.js';
export { imageAttachment } from './models/attachment.js';
export { pairIntegers, pairObjectId } from './models/object-id.js';
export type { ImageAttachmentOptions } from './models/attachment.js';
export { BaseImageSet } from './models/image-set.js';
export type {
  FromFileOptions,
  FromRawFileOptions,
  GenerateThumbnailOptions,
  ImageSetOptions,
} from './models/image-set.js';
export { SingleImageSet } from './models/single-image-set.js';
export { MultipleImageSet } from './models/multiple-image-set.js';
export { ImageSubset } from './models/image-subset.js';
export type { ImageDestroyOptions } from './models/image-hooks.js';
export type { ImageFileInput, MulterFile, RawFileInput } from './models/image-input.js';
export { thumbnailDimensions } from './images/thumbnail.js';
export type {
  ThumbnailFit,
  ThumbnailFormat,
  ThumbnailRenderOptions,
  ThumbnailSize,
} from './images/thumbnail.js';
export { DEFAULT_GRACE_PERIOD, gc } from './gc.js';
export type { GcImage, GcOptions, GcReport } from './gc.js';
export { serveImages } from './middleware/serve.js';
export type { OffloadMode, ServeImagesOptions } from './middleware/serve.js';
export { HotFileCache } from './middleware/hot-cache.js';
export type { HotFile, HotFileCacheOptions } from './middleware/hot-cache.js';
export {
  AttachTargetNotFoundError,
  ImageDecodeTimeoutError,
  ImageMetadataTooLargeError,
  ImageTooManyFramesError,
  ImageTooManyPixelsError,
  ImageTooMuchWorkError,
  ImageTruncatedError,
  ImageTypeNotAllowedError,
  ImageUndecodableError,
  QueueFullError,
  UnsafeSvgError,
  UploadError,
  UploadFieldTooLargeError,
  UploadFileTooLargeError,
  UploadMalformedError,
  UploadMissingFileError,
  UploadTooManyFieldsError,
  UploadTooManyFilesError,
  UploadUnexpectedFileError,
} from './errors.js';
export type { UploadErrorOptions } from './errors.js';
export { uploadImage } from './middleware/upload.js';
export type { UploadedRequest, UploadImageOptions } from './middleware/upload.js';
export { attachImage } from './middleware/attach.js';
export type {
  AttachableImage,
  AttachableImageSet,
  AttachedFile,
  AttachedImage,
  AttachImageOptions,
  AttachRequest,
  AttachWriteOptions,
} from './middleware/attach.js';
export { imageStorage } from './uploads/storage.js';
export type { ImageStorageEngine, IncomingFilePart, StagedImageFile } from './uploads/storage.js';
export type { ImageStorageOptions } from './uploads/options.js';
export type { ErrorMode } from './uploads/respond.js';
export { defaultProcessingQueue, machineConcurrency, ProcessingQueue } from './images/queue.js';
export type { ProcessingQueueOptions } from './images/queue.js';
export { sniffImageType } from './images/magic.js';
export type { ImageFormat, SniffedType } from './images/magic.js';
export { findSvgProblem } from './images/svg-safety.js';
export type { SvgProblem } from './images/svg-safety.js';
