/**
 * A seeded mutation fuzzer: valid JPEG, PNG, GIF and WebP files with bits flipped, bytes
 * overwritten with boundary values, ranges cut, repeated or inserted, and tails truncated. Each
 * mutant goes through `fromFile` and through `uploadImage` + `attachImage`: it either stores a
 * valid image (byte for byte, of the type and size its row says) or fails with a documented
 * error; none crashes the process, answers 500 or takes longer than the time limit.
 *
 * Replay with RELIABILITY_SEED; run longer with RELIABILITY_ITERATIONS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  attachImage,
  FileSystemStore,
  ImageAttachError,
  uploadImage,
  type AttachedImage,
} from '../../src/index.js';
import { readImageInfo } from '../../src/images/metadata.js';
import { databaseKinds, type TestDatabase } from '../support/database.js';
import { checkInvariants, sha256 } from '../support/invariants.js';
import { makeTempDir } from '../support/temp-dir.js';
import { listDir } from '../middleware/upload-fixtures.js';
import { defineModels, type Models } from '../models/models.js';
import { validSamples } from './hostile-files.js';
import { BOUNDARY, multipart } from './multipart.js';
import { iterations, random, type Random } from './random.js';

const MUTATIONS = Math.round(2000 * iterations());
const SEED = Number(process.env.RELIABILITY_SEED ?? '20261127');
/** Far above what one small image takes; a mutant that hangs fails here instead of the run. */
const TIME_LIMIT = 15_000;

/** What `fromFile` may reject with: an image it cannot read. */
const FROM_FILE_ERRORS = new Set(['E_NOT_AN_IMAGE']);
/** What the upload may answer besides 200: each a documented code with its status. */
const UPLOAD_ERRORS = new Map([
  ['E_NOT_AN_IMAGE', 415],
  ['E_IMAGE_TYPE_NOT_ALLOWED', 415],
  ['E_IMAGE_TRUNCATED', 422],
  ['E_IMAGE_UNDECODABLE', 422],
  ['E_IMAGE_TOO_MANY_PIXELS', 422],
  ['E_IMAGE_TOO_MANY_FRAMES', 422],
  ['E_UPLOAD_FILE_TOO_LARGE', 413],
  ['E_SVG_UNSAFE', 422],
]);

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe];

/** One seeded mutation of `bytes`; mutations bias toward the header, where parsers decide. */
function mutate(bytes: Buffer, rng: Random): Buffer {
  const out = Buffer.from(bytes);
  const at = (headerBias = true) =>
    headerBias && rng.int(2) === 0 ? rng.int(Math.min(64, out.length)) : rng.int(out.length);
  switch (rng.int(7)) {
    case 0: {
      for (let i = 1 + rng.int(8); i > 0; i -= 1) out[at()]! ^= 1 << rng.int(8);
      return out;
    }
    case 1: {
      for (let i = 1 + rng.int(4); i > 0; i -= 1) out[at()] = rng.pick(INTERESTING)!;
      return out;
    }
    case 2: {
      // A 16-bit boundary value, where sizes and lengths live.
      const offset = Math.min(at(), out.length - 2);
      out.writeUInt16BE(rng.pick([0, 1, 0x7fff, 0x8000, 0xffff])!, Math.max(0, offset));
      return out;
    }
    case 3:
      return out.subarray(0, at(false));
    case 4: {
      const start = at(false);
      return Buffer.concat([out.subarray(0, start), out.subarray(start + 1 + rng.int(64))]);
    }
    case 5: {
      const start = at(false);
      const piece = out.subarray(start, start + 1 + rng.int(256));
      return Buffer.concat([out.subarray(0, start), piece, piece, out.subarray(start)]);
    }
    default: {
      const junk = Buffer.from(Array.from({ length: 1 + rng.int(32) }, () => rng.int(256)));
      const start = at();
      return Buffer.concat([out.subarray(0, start), junk, out.subarray(start)]);
    }
  }
}

function withTimeLimit<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${TIME_LIMIT} ms`)), TIME_LIMIT);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

let db: TestDatabase;
let models: Models;
let store: FileSystemStore;
let storeDir: { path: string; remove: () => Promise<void> };
let tmp: { path: string; remove: () => Promise<void> };
let server: Server;
let mutants: { name: string; bytes: Buffer }[];

beforeAll(async () => {
  db = await databaseKinds()[0]!.open();
  models = defineModels(db.sequelize);
  await db.sequelize.sync({ force: true });
  await models.User.create();
  await models.User.create();
  storeDir = await makeTempDir('fuzz-store');
  tmp = await makeTempDir('fuzz-tmp');
  store = new FileSystemStore({ path: storeDir.path, baseUrl: 'http://x.test/' });
  const app = express();
  app.post(
    '/users/:id/picture',
    uploadImage({ field: 'picture', tmpDir: tmp.path }),
    attachImage({
      to: async (req) => (await models.User.findByPk(req.params.id))?.picture,
      store,
    }),
    (_req: IncomingMessage, res: ServerResponse & { locals: { image: AttachedImage } }) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ mimetype: res.locals.image.mimetype }));
    },
  );
  app.use((err: unknown, _req: IncomingMessage, res: ServerResponse, _next: unknown) => {
    res.statusCode = 500;
    res.end(JSON.stringify({ unhandled: String(err) }));
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  expect((server.address() as AddressInfo).port).toBeGreaterThan(0);

  const samples = await validSamples();
  const sources = Object.entries(samples);
  const rng = random(SEED);
  mutants = Array.from({ length: MUTATIONS }, (_, i) => {
    const [format, bytes] = sources[i % sources.length]!;
    return { name: `${format} #${i}`, bytes: mutate(bytes, rng) };
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await db.close();
  await storeDir.remove();
  await tmp.remove();
});

const tally = { mutations: 0, fromFileStored: 0, uploadStored: 0, refused: 0 };

describe(`${MUTATIONS} mutations of valid JPEG, PNG, GIF and WebP files (seed ${SEED})`, () => {
  test(
    'through fromFile: a valid image stored byte for byte, or E_NOT_AN_IMAGE',
    { timeout: 600_000 * Math.max(1, iterations()) },
    async () => {
      const user = (await models.User.findByPk(1))!;
      const outcomes: string[] = [];
      for (const mutant of mutants) {
        try {
          const image = await withTimeLimit(
            user.picture.fromBlob(mutant.bytes, { store }),
            `fromFile(${mutant.name})`,
          );
          const stored = await image.makeBlob({ store });
          expect(sha256(stored), mutant.name).toBe(sha256(mutant.bytes));
          const info = await readImageInfo(stored);
          expect([info.mimetype, info.width, info.height], mutant.name).toEqual([
            image.mimetype,
            image.width,
            image.height,
          ]);
          tally.fromFileStored += 1;
          outcomes.push('stored');
        } catch (error) {
          const code = error instanceof ImageAttachError ? error.code : String(error);
          expect(FROM_FILE_ERRORS.has(code), `${mutant.name}: ${code}`).toBe(true);
          outcomes.push(code);
        }
      }
      tally.mutations = mutants.length;
      // Both kinds of outcome happen, or the mutations are too mild or too wild to test much.
      expect(outcomes).toContain('stored');
      expect(outcomes).toContain('E_NOT_AN_IMAGE');
      const { problems } = await checkInvariants(store, db.sequelize);
      expect(problems).toEqual([]);
    },
  );

  test(
    'through the upload middleware: 200 and stored, or a documented 4xx; never 500',
    { timeout: 600_000 * Math.max(1, iterations()) },
    async () => {
      const statuses = new Map<string, number>();
      for (const mutant of mutants) {
        const res = await withTimeLimit(
          Promise.resolve(
            request(server)
              .post('/users/2/picture')
              .set('Content-Type', `multipart/form-data; boundary=${BOUNDARY}`)
              .send(
                multipart([
                  { name: 'picture', filename: 'x', contentType: 'image/png', data: mutant.bytes },
                ]),
              ),
          ),
          `upload(${mutant.name})`,
        );
        const body = res.body as { mimetype?: string; error?: { code: string } };
        const key = res.status === 200 ? 'stored' : (body.error?.code ?? `status ${res.status}`);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (res.status === 200) {
          tally.uploadStored += 1;
          continue;
        }
        tally.refused += 1;
        expect(
          UPLOAD_ERRORS.get(body.error?.code ?? ''),
          `${mutant.name}: ${JSON.stringify(body)}`,
        ).toBe(res.status);
      }
      expect(statuses.get('stored') ?? 0).toBeGreaterThan(0);
      const { problems } = await checkInvariants(store, db.sequelize);
      expect(problems).toEqual([]);
      await vi.waitFor(async () => expect(await listDir(tmp.path)).toEqual([]));
    },
  );
});

afterAll(() => {
  console.log(
    `fuzzer: ${tally.mutations} mutations (seed ${SEED}), each through fromFile ` +
      `(${tally.fromFileStored} stored) and the upload middleware (${tally.uploadStored} stored, ` +
      `${tally.refused} refused with documented errors); no crash, no 500, no hang`,
  );
});
