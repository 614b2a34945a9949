/**
 * Uploads: `uploadImage` + `attachImage` (staged, typed, verified, stored with its row in one
 * transaction) against raw multer `diskStorage` and `fs.rename` into place, both under Express
 * on 127.0.0.1, posted by a node:http multipart client at the same concurrency.
 */
import { mkdir, rename } from 'node:fs/promises';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import multer from 'multer';
import { attachImage, FileSystemStore, uploadImage } from '../src/index.js';
import { alternate, defaultRounds, report, runStandalone, type Benchmark } from './harness.js';
import { jpegNear, tempFolder } from './support/inputs.js';
import { Album, openDatabase } from './support/models.js';
import { postFile, runPool } from './support/multipart.js';

/** Uploads per side over all rounds, so each round posts UPLOADS / rounds (40 at 5 rounds). */
const UPLOADS = Number(process.env.BENCH_UPLOAD_COUNT ?? 200);
const CONCURRENCY = Number(process.env.BENCH_UPLOAD_CONCURRENCY ?? 1);
/** BENCH_UPLOAD_VERIFY=0 skips the full decode check, to show what the rest of the path costs. */
const VERIFY = process.env.BENCH_UPLOAD_VERIFY !== '0';
/** BENCH_UPLOAD_FSYNC=0 lets the store skip fsync, as the baseline's rename does. */
const FSYNC = process.env.BENCH_UPLOAD_FSYNC !== '0';
const ROUNDS = defaultRounds();
const PER_ROUND = Math.max(1, Math.ceil(UPLOADS / ROUNDS));
const WARMUP = 4;
const SIZE = 2 * 1024 * 1024;

async function listen(app: express.Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const upload: Benchmark = {
  name: 'upload',
  description:
    `uploadImage + attachImage vs multer diskStorage + fs.rename, ${PER_ROUND * ROUNDS} ` +
    `uploads of 2 MB per side (${PER_ROUND} a round), ${CONCURRENCY} at a time`,
  async run() {
    const folder = await tempFolder('bench-upload');
    const sequelize = await openDatabase(folder.path);
    const store = new FileSystemStore({
      path: join(folder.path, 'store'),
      baseUrl: 'http://x/',
      fsync: FSYNC,
    });
    const staging = join(folder.path, 'staging');
    const baselineRoot = join(folder.path, 'baseline');
    await mkdir(staging);
    await mkdir(baselineRoot);
    const jpeg = await jpegNear(SIZE);
    // Each upload goes to an album of its own that has no photo yet, on both sides: the common
    // case, and no round replaces (or overwrites) what an earlier one stored.
    const posts = WARMUP + PER_ROUND * ROUNDS;
    for (let i = 0; i < posts; i += 1) await Album.create();
    console.log(`${posts} albums; each upload posts a ${jpeg.length}-byte JPEG to a new one`);

    const ours = express();
    ours.post(
      '/albums/:id/photo',
      uploadImage({ field: 'photo', tmpDir: staging, verify: VERIFY }),
      attachImage({
        to: async (req) => (await Album.findByPk(Number(req.params.id)))?.photo,
        store,
      }),
      (_req, res) => {
        res.json({ url: (res.locals.image as { url: string }).url });
      },
    );

    // What a user writes by hand with the same dependencies: multer stages the part, a rename
    // moves it into place. No type check, no decode, no row.
    const baseline = express();
    baseline.post(
      '/albums/:id/photo',
      multer({ storage: multer.diskStorage({ destination: staging }) }).single('photo'),
      (req, res, next) => {
        const folderOf = join(baselineRoot, 'photo', String(Number(req.params.id)));
        const target = join(folderOf, 'original.jpg');
        mkdir(folderOf, { recursive: true })
          .then(() => rename((req.file as Express.Multer.File).path, target))
          .then(() => res.json({ path: target }), next);
      },
    );

    const oursServer = await listen(ours);
    const baselineServer = await listen(baseline);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const nextAlbum = new Map<string, number>();
    const uploadAll = async (url: string, count: number) => {
      const first = nextAlbum.get(url) ?? 1;
      nextAlbum.set(url, first + count);
      const start = process.hrtime.bigint();
      await runPool(count, CONCURRENCY, async (i) => {
        const result = await postFile(
          `${url}/albums/${first + i}/photo`,
          { field: 'photo', filename: 'photo.jpg', content: jpeg },
          agent,
        );
        if (result.status !== 200) {
          throw new Error(`upload ${first + i} to ${url}: ${result.status} ${result.body}`);
        }
      });
      return { value: count / (Number(process.hrtime.bigint() - start) / 1e9) };
    };
    try {
      // A short warm-up instead of a whole warm-up round: a round of ours takes seconds.
      await uploadAll(oursServer.url, Math.min(WARMUP, PER_ROUND));
      await uploadAll(baselineServer.url, Math.min(WARMUP, PER_ROUND));
      const comparison = await alternate({
        name: 'upload 2 MB',
        unit: 'uploads/s',
        rounds: ROUNDS,
        warmups: 0,
        ours: () => uploadAll(oursServer.url, PER_ROUND),
        baseline: () => uploadAll(baselineServer.url, PER_ROUND),
      });
      return report(comparison, { minRatio: 0.8, description: '>= 0.80 of multer + rename' });
    } finally {
      agent.destroy();
      await oursServer.close();
      await baselineServer.close();
      await sequelize.close();
      await folder.remove();
    }
  },
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone(upload);
