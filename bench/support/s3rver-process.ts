/**
 * s3rver in a process of its own, as the tests start it (test/support/s3rver.ts): prints its
 * endpoint as one line of JSON, and stops when its standard input closes (the parent left).
 * Usage: node --import tsx s3rver-process.ts
 */
import { startS3rver } from '../../test/support/s3rver.js';

const s3 = await startS3rver();
process.stdout.write(
  JSON.stringify({
    endpoint: s3.endpoint,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  }) + '\n',
);
process.stdin.resume();
process.stdin.on('end', () => {
  s3.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
