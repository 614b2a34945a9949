// The `sequelize-imageattach/s3` entry: the S3 stores, apart from the core so that importing
// `sequelize-imageattach` never loads the AWS SDK.
export { S3Store } from './stores/s3.js';
export { DEFAULT_MAX_AGE } from './stores/s3-options.js';
export type { S3StoreOptions, SignedUrlOptions } from './stores/s3-options.js';
export { S3SandboxStore, SANDBOX_DELETED_CONTENT_TYPE } from './stores/s3-sandbox.js';
export type { S3SandboxStoreOptions } from './stores/s3-sandbox.js';
export { directUploads } from './http/direct-uploads.js';
export type {
  DirectUploadsOptions,
  DirectUploadTarget,
  DirectUploadTicket,
} from './http/direct-uploads.js';
export { ensureIncomingLifecycle, INCOMING_RULE_ID } from './stores/s3-lifecycle.js';
export type { IncomingLifecycleOptions } from './stores/s3-lifecycle.js';
export { INCOMING_FOLDER } from './stores/s3-incoming.js';
// Direct uploads' errors, matched on `code` like the upload errors.
export {
  DirectUploadMissingError,
  StoreUnavailableError,
  UploadTokenExpiredError,
  UploadTokenInvalidError,
  UploadTokenMismatchError,
  UploadTokenUsedError,
} from './errors.js';
export { StoredObjectCopy } from './stores/copy-source.js';
