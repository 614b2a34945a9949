/**
 * The AWS SDK, an optional peer dependency loaded only by `sequelize-imageattach/s3`. It is
 * required synchronously when that subpath is imported: no top-level `await`, which would make
 * `require('sequelize-imageattach/s3')` fail under Node's require(esm). The SDK ships CommonJS
 * (and no `exports` map), so `import` and `require` reach the same classes and `instanceof
 * S3Client` holds for clients the application made. Types come from `import type` only.
 */
import { createRequire } from 'node:module';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import type * as PresignedPost from '@aws-sdk/s3-presigned-post';
import type * as Presigner from '@aws-sdk/s3-request-presigner';
import { MissingDependencyError } from '../errors.js';
import { isMissingPackage } from '../optional-peer.js';

/** The packages `sequelize-imageattach/s3` needs besides the core's dependencies. */
export const S3_PEER_DEPENDENCIES = [
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  '@aws-sdk/s3-request-presigner',
] as const;

const require = createRequire(import.meta.url);

/** Requires every SDK package, or throws one error naming all of those that are missing. */
function loadSdk(): [typeof ClientS3, typeof LibStorage, typeof Presigner] {
  const missing: string[] = [];
  let firstError: unknown;
  const modules = S3_PEER_DEPENDENCIES.map((name) => {
    try {
      return require(name) as unknown;
    } catch (error) {
      if (!isMissingPackage(error, name)) throw error;
      missing.push(name);
      firstError ??= error;
      return undefined;
    }
  });
  if (missing.length > 0) {
    // The command names all three: installing one alone would leave versions that disagree.
    throw new MissingDependencyError(S3_PEER_DEPENDENCIES, 'sequelize-imageattach/s3', {
      cause: firstError,
    });
  }
  return modules as [typeof ClientS3, typeof LibStorage, typeof Presigner];
}

export const [s3Sdk, libStorage, presigner] = loadSdk();

/** The package direct uploads need besides the SDK above: presigned POST policies. */
export const PRESIGNED_POST_PACKAGE = '@aws-sdk/s3-presigned-post';

let presignedPostModule: typeof PresignedPost | undefined;

/**
 * `@aws-sdk/s3-presigned-post`, required the first time direct uploads are set up (so the S3
 * stores work without it).
 * @throws {MissingDependencyError} when it is not installed.
 */
export function presignedPost(): typeof PresignedPost {
  if (presignedPostModule !== undefined) return presignedPostModule;
  try {
    presignedPostModule = require(PRESIGNED_POST_PACKAGE) as typeof PresignedPost;
  } catch (error) {
    if (!isMissingPackage(error, PRESIGNED_POST_PACKAGE)) throw error;
    throw new MissingDependencyError([PRESIGNED_POST_PACKAGE], 'directUploads', { cause: error });
  }
  return presignedPostModule;
}
