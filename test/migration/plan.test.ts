import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ImageNotFoundError,
  InvalidOptionError,
  MigrationError,
  VerificationError,
  type MigrationOptions,
  type MigrationProgress,
} from '../../src/index.js';
import { MigrationPlan } from '../../src/migration/plan.js';
import { modelImageSource } from '../../src/migration/model-source.js';
import { bytesFor, migrationFixture, Photo, readAll, type MigrationFixture } from './support.js';

let fx: MigrationFixture;
beforeEach(async () => {
  fx = await migrationFixture(12);
});
afterEach(async () => {
  await fx.cleanup();
});

function plan(options: MigrationOptions = {}) {
  return new MigrationPlan(
    modelImageSource(Photo, options.pageSize ?? 500),
    fx.source,
    fx.destination,
    options,
  );
}

/** Every image of the fixture, as `photo/id/WxH reproducible`. */
function allKeys(): string[] {
  return fx.things.flatMap((id) => [`photo/${id}/40x30 false`, `photo/${id}/20x15 true`]).sort();
}

async function expectDestinationComplete(): Promise<void> {
  for (const id of fx.things) {
    for (const [width, height] of [
      [40, 30],
      [20, 15],
    ] as const) {
      const bytes = await readAll(
        await fx.destination.getFile('photo', id, width, height, 'image/png'),
      );
      expect(bytes.equals(bytesFor(id, width))).toBe(true);
    }
  }
}

describe('MigrationPlan', () => {
  it('does nothing until it runs, and counts its images beforehand', async () => {
    const p = plan();
    expect(await p.count()).toBe(24);
    expect(fx.destination.written).toEqual([]);
  });

  it('copies every image byte for byte, carrying the reproducible flag', async () => {
    const report = await plan().execute();
    expect([...fx.destination.written].sort()).toEqual(allKeys());
    await expectDestinationComplete();
    expect(report).toMatchObject({ total: 24, done: 24, migrated: 24, skipped: 0, failed: 0 });
    expect(report.failures).toEqual([]);
    const expectedBytes = fx.things.reduce(
      (sum, id) => sum + bytesFor(id, 40).length + bytesFor(id, 20).length,
      0,
    );
    expect(report.bytes).toBe(expectedBytes);
  });

  it('yields each image once when iterated, and runs again on each iteration', async () => {
    const p = plan({ concurrency: 3 });
    const seen: string[] = [];
    for await (const image of p) seen.push(`${image.thingId}:${image.width}`);
    expect(seen).toHaveLength(24);
    expect(new Set(seen).size).toBe(24);
    let again = 0;
    for await (const _ of p) again += 1;
    expect(again).toBe(24);
    expect(fx.destination.written).toHaveLength(48);
  });

  it('hands the callback each image with its progress', async () => {
    const calls: Array<[number, number]> = [];
    await plan().execute((image, progress) => {
      expect(progress.image).toBe(image);
      calls.push([progress.done, progress.total]);
    });
    expect(calls.map(([done]) => done)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(calls.every(([, total]) => total === 24)).toBe(true);
    await expect(plan().execute('nope' as never)).rejects.toThrow(TypeError);
  });

  it('sends typed start, migrating, progress and end events', async () => {
    const p = plan();
    const events: string[] = [];
    const progress: MigrationProgress<Photo>[] = [];
    p.on('start', ({ total }) => events.push(`start ${total}`));
    p.on('migrating', () => events.push('migrating'));
    const off = p.on('progress', (event) => progress.push(event));
    p.on('end', (report) => events.push(`end ${report.done}`));
    await p.execute();
    expect(events[0]).toBe('start 24');
    expect(events.filter((e) => e === 'migrating')).toHaveLength(24);
    expect(events.at(-1)).toBe('end 24');
    expect(progress.map((e) => e.done)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(progress.at(-1)).toMatchObject({ total: 24, migrated: 24, skipped: 0, failed: 0 });
    expect(progress.every((e) => e.status === 'migrated' && e.imageBytes > 0)).toBe(true);
    const last = progress.at(-1)!;
    expect(last.bytes).toBe(progress.reduce((sum, e) => sum + e.imageBytes, 0));
    off();
    await plan().execute();
    expect(progress).toHaveLength(24);
  });

  it('reads rows a page at a time, by composite primary key, missing none', async () => {
    await plan({ pageSize: 5 }).execute();
    expect([...fx.destination.written].sort()).toEqual(allKeys());
    const selects = fx.queries.filter(
      (sql) => /SELECT .* FROM `photo`/.test(sql) && !/count\(/i.test(sql),
    );
    // 24 rows, 5 a page: 5 full pages and one short one.
    expect(selects).toHaveLength(5);
    expect(selects.every((sql) => /LIMIT 5/.test(sql))).toBe(true);
  });

  it('never writes the database and never deletes source files', async () => {
    await plan({ verify: true }).execute();
    expect(fx.queries.filter((sql) => /\b(INSERT|UPDATE|DELETE|DROP|ALTER)\b/i.test(sql))).toEqual(
      [],
    );
    for (const id of fx.things) {
      expect(await fx.source.statFile('photo', id, 40, 30, 'image/png')).toEqual({
        size: bytesFor(id, 40).length,
      });
    }
    expect(await Photo.count()).toBe(24);
  });

  it('copies no more than `concurrency` images at once', async () => {
    await plan({ concurrency: 2 }).execute();
    expect(fx.destination.maxActive).toBeLessThanOrEqual(2);
    expect(fx.destination.maxActive).toBeGreaterThan(0);
  });

  it('reports a missing source image as failed, with the cause, and migrates the rest', async () => {
    await fx.source.deleteFile('photo', 3, 20, 15, 'image/png');
    const progress: MigrationProgress<Photo>[] = [];
    const p = plan();
    p.on('progress', (event) => progress.push(event));
    const error = await p.execute().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    const { failures, summary } = error as MigrationError;
    expect(failures).toHaveLength(1);
    expect(failures[0]!.code).toBe('E_MIGRATION_IMAGE');
    expect(failures[0]!.image).toMatchObject({
      objectType: 'photo',
      objectId: 3n,
      width: 20,
      height: 15,
    });
    expect(failures[0]!.cause).toBeInstanceOf(ImageNotFoundError);
    expect(summary).toMatchObject({ total: 24, done: 24, migrated: 23, failed: 1 });
    expect(fx.destination.written).toHaveLength(23);
    expect(progress.filter((e) => e.status === 'failed').map((e) => e.error)).toEqual(failures);
  });

  it('throws the failures at the end of an iteration too', async () => {
    await fx.source.deleteFile('photo', 1, 40, 30, 'image/png');
    let yielded = 0;
    const iterate = async () => {
      for await (const _ of plan()) yielded += 1;
    };
    await expect(iterate()).rejects.toBeInstanceOf(MigrationError);
    expect(yielded).toBe(23);
  });

  it('stops at the first failure with failFast', async () => {
    await fx.source.deleteFile('photo', 1, 20, 15, 'image/png');
    const error = await plan({ failFast: true, concurrency: 1 })
      .execute()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).failures).toHaveLength(1);
    expect(fx.destination.written.length).toBeLessThan(23);
  });

  it('verifies sizes and checksums of good copies', async () => {
    const size = await plan({ verify: 'size' }).execute();
    const checksum = await plan({ verify: 'checksum' }).execute();
    expect(size.migrated).toBe(24);
    expect(checksum.migrated).toBe(24);
    await expectDestinationComplete();
  });

  it.each([
    ['truncate', 'size', 'size'],
    ['flip', 'checksum', 'sha256'],
  ] as const)(
    'fails a copy damaged by %s under verify %s, and removes it',
    async (damage, verify, check) => {
      fx.destination.damage = damage;
      const error = await plan({ verify })
        .execute()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      const failures = (error as MigrationError).failures;
      expect(failures).toHaveLength(24);
      expect(failures[0]!.cause).toBeInstanceOf(VerificationError);
      expect((failures[0]!.cause as VerificationError).check).toBe(check);
      for (const id of fx.things) {
        expect(await fx.destination.statFile('photo', id, 40, 30, 'image/png')).toBeUndefined();
      }
    },
  );

  it('does not notice same-size damage when verifying sizes only', async () => {
    fx.destination.damage = 'flip';
    await expect(plan({ verify: 'size' }).execute()).resolves.toMatchObject({ migrated: 24 });
  });

  it('skips images the destination has with the same size, and copies the rest', async () => {
    await plan().execute();
    // One copy is missing, one has the wrong size: both are copied again.
    await fx.destination.deleteFile('photo', 2, 40, 30, 'image/png');
    await fx.destination.putFile(Buffer.from('short'), 'photo', 5, 20, 15, 'image/png', true);
    fx.destination.written.length = 0;
    const report = await plan({ skipExisting: true }).execute();
    expect(report).toMatchObject({ migrated: 2, skipped: 22, failed: 0 });
    expect([...fx.destination.written].sort()).toEqual([
      'photo/2/40x30 false',
      'photo/5/20x15 true',
    ]);
    await expectDestinationComplete();
  });

  it('copies a same-size but different file again when skipExisting verifies checksums', async () => {
    await plan().execute();
    const wrong = Buffer.from(bytesFor(4, 40));
    wrong[10] = wrong[10]! ^ 1;
    await fx.destination.putFile(wrong, 'photo', 4, 40, 30, 'image/png', false);
    fx.destination.written.length = 0;
    const report = await plan({ skipExisting: true, verify: 'checksum' }).execute();
    expect(report).toMatchObject({ migrated: 1, skipped: 23 });
    await expectDestinationComplete();
  });

  it('resumes an interrupted run without copying any image twice or missing one', async () => {
    const controller = new AbortController();
    const first = plan({ skipExisting: true, concurrency: 3, signal: controller.signal });
    first.on('progress', ({ done }) => {
      if (done === 10) controller.abort();
    });
    const error = await first.execute().catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    const copiedFirst = fx.destination.written.length;
    expect(copiedFirst).toBeGreaterThanOrEqual(10);
    expect(copiedFirst).toBeLessThan(24);
    const report = await plan({ skipExisting: true, concurrency: 3 }).execute();
    expect(report.skipped).toBe(copiedFirst);
    expect(report.migrated).toBe(24 - copiedFirst);
    const written = [...fx.destination.written].sort();
    expect(written).toEqual(allKeys());
    await expectDestinationComplete();
  });

  it('starts nothing when the signal is already aborted', async () => {
    const error = await plan({ signal: AbortSignal.abort() })
      .execute()
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(fx.destination.written).toEqual([]);
  });

  it('stops copying when the loop is left early', async () => {
    for await (const _ of plan({ concurrency: 2 })) break;
    const after = fx.destination.written.length;
    expect(after).toBeLessThanOrEqual(3);
    expect(fx.destination.active).toBe(0);
  });

  it('writes nothing in a dry run, and still reports missing sources', async () => {
    await fx.source.deleteFile('photo', 7, 40, 30, 'image/png');
    const error = await plan({ dryRun: true })
      .execute()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).summary).toMatchObject({ migrated: 23, failed: 1 });
    expect(fx.destination.written).toEqual([]);
    await fx.source.putFile(bytesFor(7, 40), 'photo', 7, 40, 30, 'image/png', false);
    const report = await plan({ dryRun: true }).execute();
    expect(report.dryRun).toBe(true);
    expect(report.bytes).toBeGreaterThan(0);
    expect(await fx.destination.statFile('photo', 1, 40, 30, 'image/png')).toBeUndefined();
  });

  it('validates its options, naming the option', () => {
    const cases: Array<[MigrationOptions, string]> = [
      [{ concurrency: 0 }, 'concurrency'],
      [{ concurrency: 1.5 }, 'concurrency'],
      [{ pageSize: 0 }, 'pageSize'],
      [{ verify: 'md5' as never }, 'verify'],
      [{ skipExisting: 'yes' as never }, 'skipExisting'],
      [{ signal: {} as never }, 'signal'],
    ];
    for (const [options, option] of cases) {
      let error: unknown;
      try {
        plan(options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
    }
    expect(
      () => new MigrationPlan(modelImageSource(Photo, 10), {} as never, fx.destination),
    ).toThrow(TypeError);
  });
});
