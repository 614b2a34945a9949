/**
 * Moves between the file system and the test S3 server, and back, comparing every byte
 * through a second channel (node:fs and the raw SDK).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemStore, migrate, type Image } from '../../src/index.js';
import type { S3Store } from '../../src/s3.js';
import { extensionFor } from '../../src/stores/keys.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { s3StoreFixture, serverEnforcesAccess, type TestBucket } from '../support/s3.js';
import { makeTempDir } from '../support/temp-dir.js';
import { defineMigrationModels, seedCovers, type MigrationModels } from './models.js';

function fsPath(image: Image): string {
  const id = BigInt(image.objectId);
  const mod = ((id % 1000n) + 1000n) % 1000n;
  const div = (id - mod) / 1000n;
  const ext = extensionFor(image.mimetype);
  return join(
    image.objectType,
    String(mod),
    String(div),
    `${id}.${image.width}x${image.height}${ext}`,
  );
}

function s3Key(image: Image): string {
  return `${image.objectType}/${image.objectId}/${image.width}x${image.height}${extensionFor(image.mimetype)}`;
}

describe('migration between the file system and S3', () => {
  let db: TestDatabase;
  let models: MigrationModels;
  let dirs: Array<{ path: string; remove: () => Promise<void> }>;
  let disk: FileSystemStore;
  let s3: { store: S3Store; bucket: TestBucket; cleanup: () => Promise<void> };
  let images: Image[];

  beforeAll(async () => {
    db = await databaseKinds()[0]!.open();
    models = defineMigrationModels(db.sequelize);
    await db.sequelize.sync();
    dirs = [await makeTempDir('mig-disk'), await makeTempDir('mig-back')];
    disk = new FileSystemStore({ path: dirs[0]!.path, baseUrl: 'http://disk/' });
    await seedCovers(models, disk);
    s3 = await s3StoreFixture();
    images = [
      ...(await models.SomethingCover.findAll()),
      ...(await models.SamethingCover.findAll()),
    ];
    expect(images).toHaveLength(10);
  });
  afterAll(async () => {
    await s3?.cleanup();
    for (const dir of dirs ?? []) await dir.remove();
    await db?.close();
  });

  it('copies every image from disk to S3, byte for byte, thumbnails in their storage class', async () => {
    const report = await migrate(db.sequelize, disk, s3.store, { verify: true }).execute();
    expect(report).toMatchObject({ total: 10, migrated: 10, failed: 0 });
    for (const image of images) {
      const onDisk = await readFile(join(disk.path, fsPath(image)));
      const object = await s3.bucket.client.send(
        new GetObjectCommand({ Bucket: s3.bucket.name, Key: s3Key(image) }),
      );
      const inS3 = Buffer.from(await object.Body!.transformToByteArray());
      expect(inS3.equals(onDisk)).toBe(true);
      if (serverEnforcesAccess()) {
        const head = await s3.bucket.client.send(
          new HeadObjectCommand({ Bucket: s3.bucket.name, Key: s3Key(image) }),
        );
        expect(head.StorageClass === 'REDUCED_REDUNDANCY').toBe(!image.original);
      }
    }
    const again = await migrate(db.sequelize, disk, s3.store, { skipExisting: true }).execute();
    expect(again).toMatchObject({ migrated: 0, skipped: 10 });
  });

  it('copies every image from S3 back to disk, byte for byte', async () => {
    // Independent of the test above: fills the bucket when it ran alone.
    await migrate(db.sequelize, disk, s3.store, { skipExisting: true }).execute();
    const back = new FileSystemStore({ path: dirs[1]!.path, baseUrl: 'http://back/' });
    const report = await migrate(db.sequelize, s3.store, back, { verify: 'checksum' }).execute();
    expect(report).toMatchObject({ total: 10, migrated: 10, failed: 0 });
    for (const image of images) {
      const original = await readFile(join(disk.path, fsPath(image)));
      const copied = await readFile(join(back.path, fsPath(image)));
      expect(copied.equals(original)).toBe(true);
    }
  });
});
