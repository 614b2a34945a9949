/**
 * Image attachments for Sequelize and Express: image models, stores whose files follow the
 * database transaction, upload middleware, migration and gc. The S3 stores are in
 * `sequelize-imageattach/s3`, the conformance suite in `sequelize-imageattach/testing`.
 * @packageDocumentation
 */

// Stores
export { Store } from './stores/store.js';
export type {
  FileInput,
  ImageLike,
  ListedFile,
  ListFilesOptions,
  Middleware,
  StoredFileStat,
  CopyFileOptions,
} from './stores/store.js';
export { extensionFor } from './stores/keys.js';
export type { ImageKey } from './stores/keys.js';
export { FileSystemStore } from './stores/fs.js';
export type { BaseFileSystemStoreOptions, FileSystemStoreOptions } from './stores/fs.js';
export { HttpExposedFileSystemStore } from './stores/http-exposed-fs.js';
export type { HttpExposedFileSystemStoreOptions } from './stores/http-exposed-fs.js';
export { MirrorStore } from './stores/mirror.js';
export type { MirrorStoreOptions } from './stores/mirror.js';
export { storeFromUrl } from './stores/store-url.js';
export { getCurrentStore, storeContext } from './context.js';

// Models
export { Image, imageAttributes } from './models/image.js';
export type {
  ImageAttributesOptions,
  ImageColumns,
  ImageReadOptions,
  StoreOption,
} from './models/image.js';
export { imageAttachment } from './models/attachment.js';
export type { ImageAttachmentOptions } from './models/attachment.js';
export { pairIntegers, pairObjectId } from './models/object-id.js';
export type { BaseImageSet } from './models/image-set.js';
export type {
  FromFileOptions,
  FromRawFileOptions,
  GenerateThumbnailOptions,
  ImageSetOptions,
} from './models/image-set.js';
export type { ImageHTMLOptions } from './models/image.js';
export type { ThumbnailQuery } from './models/image-set.js';
export type { ImgAttributeOptions } from './models/image-html.js';
export type { PictureHTMLOptions, SetHTMLOptions, SrcsetOptions } from './models/set-html.js';

export type { FindThumbnailOptions, GenerateThumbnailsLaterOptions } from './models/image-set.js';
export type { ImageSetAddress, ThumbnailScheduler } from './models/thumbnail-scheduler.js';
export { SingleImageSet } from './models/single-image-set.js';
export { MultipleImageSet } from './models/multiple-image-set.js';
export { ImageSubset } from './models/image-subset.js';
export type { ImageDestroyOptions } from './models/image-hooks.js';
export type { ImageFileInput, MulterFile, RawFileInput } from './models/image-input.js';
export type {
  RenderedThumbnail,
  ThumbnailFit,
  ThumbnailFormat,
  ThumbnailRenderOptions,
  ThumbnailSize,
} from './images/thumbnail.js';
export { imageTransaction } from './models/image-transaction.js';
export { configureSqlite } from './models/sqlite-setup.js';
export type { SqliteOptions } from './models/sqlite-setup.js';
export { createImageAttachTables } from './models/staged-journal.js';
export { recoverStagedFiles } from './models/recover.js';
export type { RecoverStagedFilesOptions, RecoverStagedFilesReport } from './models/recover.js';
export { gc } from './gc.js';
export type { GcImage, GcOptions, GcReport } from './gc.js';
export type { GcKeySpace, GcCounts, GcFinding } from './gc.js';

// Express
export { serveImages } from './http/serve.js';
export type { OffloadMode, ServeImagesOptions } from './http/serve.js';
export type { ServedFolder } from './http/serve.js';
export { HotFileCache } from './http/hot-cache.js';
export type { HotFile, HotFileCacheOptions } from './http/hot-cache.js';
export { uploadImage } from './http/upload.js';
export type { UploadedRequest, UploadImageOptions } from './http/upload.js';
export { attachImage } from './http/attach.js';
export { attachedImage } from './http/attached-image.js';
export type {
  AttachableImage,
  AttachableImageSet,
  AttachedFile,
  AttachedImage,
  AttachImageOptions,
  AttachRequest,
  AttachWriteOptions,
} from './http/attach.js';
export { imageStorage } from './uploads/storage.js';
export type { ImageStorageEngine, IncomingFilePart, StagedImageFile } from './uploads/storage.js';
export type { ImageStorageOptions, SvgHandling } from './uploads/options.js';
export type { ErrorMode } from './uploads/respond.js';
export { defaultProcessingQueue, ProcessingQueue } from './images/queue.js';
export type { ProcessingQueueOptions } from './images/queue.js';

// Migration
export { migrate, migrateClass } from './migration/migrate.js';
export type { ImageModel } from './migration/migrate.js';
export type { MigrationPlan } from './migration/plan.js';
export { distributedMigrationStatus } from './migration/distribute.js';
export type {
  DistributedMigration,
  DistributedMigrationStatus,
  DistributeOptions,
} from './migration/distribute.js';
export type {
  FailedImageKey,
  ImageSource,
  MigrationEvents,
  MigrationOptions,
  MigrationProgress,
  MigrationReport,
  MigrationStatus,
  MigrationSummary,
} from './migration/types.js';
export { migrationRouter } from './http/migration-router.js';
export { variantRouter } from './http/variant-router.js';
export type {
  AllowedVariant,
  VariantRequest,
  VariantRouterOptions,
} from './http/variant-router.js';
export type { VariantUrlOptions } from './variants/variant-url.js';
export type { VariantSize } from './variants/variant-path.js';
export type { MigrationRouterOptions, StartMigrationBody } from './http/migration-router.js';
export type { DistributedMigrationStatusJson } from './http/distributed-migrations.js';
export type {
  MigrationFailureJson,
  MigrationState,
  MigrationStatusJson,
} from './migration/tracker.js';

// Errors: the classes a caller catches; upload failures are matched on `code`.
export {
  AttachTargetNotFoundError,
  ContextError,
  DatabaseBusyError,
  DeferredTransactionError,
  GcRunningError,
  ImageAttachError,
  ImageNotFoundError,
  InvalidOptionError,
  InvalidStoreUrlError,
  JobsNotConfiguredError,
  JobTargetError,
  JournalTableMissingError,
  MigrationError,
  MigrationImageError,
  MissingDependencyError,
  NoOriginalImageError,
  NotAnImageError,
  ObjectIdError,
  OrphanFileWarning,
  QueueFullError,
  StoreError,
  ThumbnailNotFoundError,
  UploadError,
  UrlUnavailableError,
  VerificationError,
} from './errors.js';
export type { ImageAttachErrorCode, ImageAttachErrorOptions } from './errors.js';
