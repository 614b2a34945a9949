// The `sequelize-imageattach/s3` entry: the S3 stores, apart from the core so that importing
// `sequelize-imageattach` never loads the AWS SDK.
export { S3Store } from './stores/s3.js';
export { DEFAULT_MAX_AGE } from './stores/s3-options.js';
export type { S3StoreOptions, SignedUrlOptions } from './stores/s3-options.js';
export { S3SandboxStore, SANDBOX_DELETED_CONTENT_TYPE } from './stores/s3-sandbox.js';
export type { S3SandboxStoreOptions } from './stores/s3-sandbox.js';
