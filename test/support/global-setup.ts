/**
 * Starts what the whole suite shares. Each service records how to reach it in the
 * environment, which Vitest passes on to every test worker.
 */
import type { TestProject } from 'vitest/node';
import { startS3rver } from './s3rver.js';

/**
 * Without `S3_ENDPOINT` (CI sets it to its RADOS Gateway), runs s3rver in this process on
 * 127.0.0.1, a random port and a temporary folder, so `npm test` needs no set-up.
 */
async function startLocalS3(): Promise<() => Promise<void>> {
  const s3 = await startS3rver();
  Object.assign(process.env, {
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKeyId,
    S3_SECRET_KEY: s3.secretAccessKey,
    S3_KIND: 's3rver',
  });
  return s3.close;
}

export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  const teardowns: Array<() => Promise<void>> = [];
  if (!process.env.S3_ENDPOINT) teardowns.push(await startLocalS3());
  return async () => {
    for (const teardown of teardowns.reverse()) await teardown();
  };
}
