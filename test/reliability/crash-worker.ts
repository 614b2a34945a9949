/**
 * The crash test's child process: a seeded random stream of image operations against a real
 * database and a file-system store, until it is killed with SIGKILL, by the parent at a random
 * moment or by itself at a seeded step (a store call, a chunk of a write, or just before or
 * after a database query, COMMIT included). For each original written it appends the file's
 * identity and SHA-256 to a log around the COMMIT of its transaction: `P` just before the
 * COMMIT is sent (from then on it may be committed), `C` once it answered. The parent then
 * knows the bytes committed for a row, whatever the clock: the stream replaces images twice in
 * a row, within one second, on a table whose `created_at` keeps whole seconds.
 *
 * Environment: CRASH_SEED, CRASH_STORE (folder), CRASH_LOG (file), CRASH_KILL_AT (step, 0 for
 * never), and CRASH_SQLITE (file), CRASH_PG_URL + CRASH_PG_SCHEMA or CRASH_MYSQL_URL.
 */
import { appendFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { Sequelize, type Model, type Transaction } from 'sequelize';
import { FileSystemStore, Store, storeContext, type FileInput } from '../../src/index.js';
import { fileIdentity } from '../../src/stores/keys.js';
import { jpeg } from '../fixtures/samples.js';
import { defineModels } from '../models/models.js';
import { sha256 } from '../support/invariants.js';
import { random } from './random.js';

const env = (name: string) => process.env[name] ?? '';

/** What a step was: a store call, a chunk written, a query, or either side of a COMMIT. */
type StepKind = 'put' | 'chunk' | 'get' | 'delete' | 'query' | 'before-commit' | 'after-commit';
const rng = random(Number(env('CRASH_SEED')));
/** `kind:n`: die at the nth step of that kind (`any` counts every step). */
const [killKind = '', killNth = '0'] = env('CRASH_KILL_AT').split(':');
const steps = new Map<string, number>();

/** Counts a step, and dies at the chosen one as abruptly as a power cut would stop it. */
function tick(kind: StepKind): void {
  for (const counted of [kind, 'any']) {
    const n = (steps.get(counted) ?? 0) + 1;
    steps.set(counted, n);
    if (counted === killKind && n === Number(killNth)) process.kill(process.pid, 'SIGKILL');
  }
}

/** The real store, with a step counted at every call and every chunk written. */
class SteppingStore extends Store {
  constructor(readonly inner: Store) {
    super();
  }
  override async putFile(
    file: FileInput,
    ...key: [string, bigint | number, number, number, string, boolean]
  ) {
    tick('put');
    if (!(file instanceof Uint8Array)) {
      await this.inner.putFile(file, ...key);
      return;
    }
    const chunks: Buffer[] = [];
    for (let at = 0; at < file.length; at += 2048)
      chunks.push(Buffer.from(file.subarray(at, at + 2048)));
    const stream = Readable.from(
      (function* () {
        for (const chunk of chunks) {
          tick('chunk');
          yield chunk;
        }
      })(),
    );
    await this.inner.putFile(stream, ...key);
  }
  override async getFile(
    ...key: [string, bigint | number, number, number, string]
  ): Promise<Readable> {
    tick('get');
    return this.inner.getFile(...key);
  }
  override getUrl(...key: [string, bigint | number, number, number, string]): string {
    return this.inner.getUrl(...key);
  }
  override async deleteFile(...key: [string, bigint | number, number, number, string]) {
    tick('delete');
    await this.inner.deleteFile(...key);
  }
}

function openDatabase(): Sequelize {
  if (env('CRASH_SQLITE') !== '') {
    return new Sequelize({
      dialect: 'sqlite',
      storage: env('CRASH_SQLITE'),
      logging: false,
    });
  }
  if (env('CRASH_MYSQL_URL') !== '') {
    return new Sequelize(env('CRASH_MYSQL_URL'), { logging: false, pool: { max: 3 } });
  }
  return new Sequelize(env('CRASH_PG_URL'), {
    logging: false,
    dialectOptions: {
      options: `-c search_path=${env('CRASH_PG_SCHEMA')}`,
      // The parent waits for the server sessions of this name to end (see crash.test.ts).
      application_name: env('CRASH_PG_SCHEMA'),
    },
    pool: { max: 3 },
  });
}

const SIZES = [
  [64, 48],
  [80, 60],
  [40, 40],
] as const;
const COLOURS = [10, 120, 240];

async function main(): Promise<void> {
  const sequelize = openDatabase();
  sequelize.addHook('beforeQuery', () => tick('query'));
  sequelize.addHook('afterQuery', () => tick('query'));
  /** The originals each root transaction wrote: identity (hex) → SHA-256, the last one kept. */
  const pending = new Map<Transaction, Map<string, string>>();
  let writing: { hex: string; sha: string } | undefined;
  // Around the COMMIT itself: a query hook does not see a query's SQL before it runs.
  const queryInterface = sequelize.getQueryInterface() as unknown as {
    commitTransaction(transaction: Transaction, options: object): Promise<unknown>;
  };
  const commitTransaction = queryInterface.commitTransaction.bind(queryInterface);
  queryInterface.commitTransaction = async (transaction, options) => {
    tick('before-commit');
    const written = pending.get(transaction);
    for (const [hex, sha] of written ?? []) appendFileSync(env('CRASH_LOG'), `P ${hex} ${sha}\n`);
    const result = await commitTransaction(transaction, options);
    pending.delete(transaction);
    for (const [hex, sha] of written ?? []) appendFileSync(env('CRASH_LOG'), `C ${hex} ${sha}\n`);
    tick('after-commit');
    return result;
  };
  const models = defineModels(sequelize);
  models.UserPicture.addHook('afterCreate', (image: Model, options: { transaction?: unknown }) => {
    if (writing === undefined || image.get('original') !== true) return;
    let root = options.transaction as (Transaction & { parent?: Transaction }) | undefined;
    while (root?.parent) root = root.parent;
    if (root === undefined) return;
    const written = pending.get(root) ?? new Map<string, string>();
    written.set(writing.hex, writing.sha);
    pending.set(root, written);
  });
  const store = new SteppingStore(
    new FileSystemStore({ path: env('CRASH_STORE'), baseUrl: 'http://x/' }),
  );
  const users = async () => models.User.findAll({ order: [['id', 'ASC']] });
  process.stdout.write('ready\n');

  const attach = async (transaction?: Transaction, same = false) => {
    const list = await users();
    const user = rng.pick(list);
    if (user === undefined) return;
    // Twice with the same size: a replacement that is staged until its commit.
    let [width, height]: [number, number] = [...rng.pick(SIZES)!];
    const times = same ? 2 : 1;
    if (same) {
      const original = await user.picture.original({ transaction });
      if (original !== null) [width, height] = [original.width, original.height];
    }
    for (let i = 0; i < times; i += 1) await attachOne(user, width, height, transaction);
  };
  const attachOne = async (
    user: InstanceType<typeof models.User>,
    width: number,
    height: number,
    transaction?: Transaction,
  ) => {
    const { bytes } = await jpeg(width, height, rng.pick(COLOURS));
    const identity = fileIdentity({
      objectType: 'user-picture',
      objectId: user.id,
      width,
      height,
      mimetype: 'image/jpeg',
    });
    writing = { hex: Buffer.from(identity).toString('hex'), sha: sha256(bytes) };
    try {
      await user.picture.fromBlob(bytes, { store, transaction });
    } finally {
      writing = undefined;
    }
  };
  const thumbnail = async (transaction?: Transaction) => {
    const user = rng.pick(await users());
    if (user === undefined || (await user.picture.original({ transaction })) === null) return;
    await user.picture.generateThumbnail({ width: rng.pick([8, 16, 24])! }, { store, transaction });
  };

  for (;;) {
    const choice = rng.int(100);
    if (choice < 10 || (await models.User.count()) < 3) {
      await models.User.create();
    } else if (choice < 30) {
      await attach();
    } else if (choice < 40) {
      // Two replacements in quick succession: the same second, the same whole-second time.
      await attach(undefined, true);
    } else if (choice < 55) {
      await thumbnail();
    } else if (choice < 65) {
      const images = await models.UserPicture.findAll();
      const image = rng.pick(images);
      if (image !== undefined) await storeContext(store, () => image.destroy());
    } else if (choice < 72) {
      const user = rng.pick(await users());
      if (user !== undefined) await storeContext(store, () => user.destroy());
    } else if (choice < 78) {
      const ids = (await users()).filter(() => rng.int(2) === 0).map((user) => user.id);
      await storeContext(store, () => models.UserPicture.destroy({ where: { userId: ids } }));
    } else {
      // Several writes in one transaction, sometimes rolled back.
      const rollback = rng.int(3) === 0;
      await sequelize
        .transaction(async (transaction) => {
          await attach(transaction, rng.int(2) === 0);
          await thumbnail(transaction);
          if (rollback) throw new Error('rollback');
        })
        .catch((error: unknown) => {
          if (!(error instanceof Error && error.message === 'rollback')) throw error;
        });
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `crash worker failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(2);
});
