/**
 * A store in words: its folder, or its bucket and prefix. The CLI prints it before it touches
 * anything, and a distributed gc keys its one running run by it.
 */
import { BaseFileSystemStore } from './fs.js';
import type { Store } from './store.js';

/** `the folder /var/images`, `the bucket images, prefix prod/ (endpoint http://…)`, … */
export function describeStore(store: Store): string {
  if (store instanceof BaseFileSystemStore) return `the folder ${store.path}`;
  // Duck-typed: importing the S3 stores here would load the AWS SDK for every command.
  const s3 = store as Store & { bucket?: unknown; prefix?: unknown; client?: unknown };
  if (typeof s3.bucket === 'string') {
    const prefix =
      typeof s3.prefix === 'string' && s3.prefix !== '' ? `, prefix ${s3.prefix}/` : '';
    return `the S3 bucket ${s3.bucket}${prefix}`;
  }
  const sandbox = store as Store & { overriding?: Store; underlying?: Store };
  if (sandbox.overriding !== undefined && sandbox.underlying !== undefined) {
    return `${describeStore(sandbox.overriding)} over ${describeStore(sandbox.underlying)}`;
  }
  return `a ${store.constructor.name}`;
}
