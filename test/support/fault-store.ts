/**
 * Fault injection for the reliability tests. `FaultStore` wraps a real store and fails chosen
 * calls (`putFile`, `getFile`, `deleteFile`): the nth matching call, every matching call, or a
 * stream after N bytes; everything else reaches the real store. `failCommits` makes the
 * database refuse a COMMIT: the transaction is rolled back for real and the commit rejects,
 * as when PostgreSQL fails a deferred constraint or a serialisation check at commit time.
 *
 * It lives under test/ and does not ship: it is test scaffolding with no stable contract, and
 * applications test against their real store and database, as these tests do.
 */
import { Readable, Transform } from 'node:stream';
import type { Sequelize, Transaction } from 'sequelize';
import { Store, StoreError, type FileInput, type ListedFile } from '../../src/index.js';
import type { ImageKey } from '../../src/stores/keys.js';

export type FaultOperation = 'putFile' | 'getFile' | 'deleteFile' | 'statFile';

export interface FaultRule {
  operation: FaultOperation;
  /** Fail the nth matching call (1 = the next one). @default 1 */
  nth?: number;
  /** How many matching calls fail from the nth on; `Infinity` for all. @default 1 */
  times?: number;
  /** Only calls whose key this accepts count. @default every key */
  match?: (key: ImageKey) => boolean;
  /** For puts and gets: let this many bytes through, then fail the stream. */
  afterBytes?: number;
}

/** The error a fault raises: a `StoreError`, as a failing backend would give. */
export class InjectedFault extends StoreError {
  constructor(operation: FaultOperation, key: ImageKey) {
    super(`${operation} failed on purpose`, describeKey(key));
  }
}

interface ArmedRule extends Required<Omit<FaultRule, 'match' | 'afterBytes'>> {
  match: (key: ImageKey) => boolean;
  afterBytes: number | undefined;
  seen: number;
  failed: number;
}

/** One call the store saw: `putFile user/1/2x3 image/jpeg` and whether a fault fired. */
export interface FaultCall {
  operation: FaultOperation;
  key: string;
  faulted: boolean;
}

export class FaultStore extends Store {
  readonly calls: FaultCall[] = [];
  #rules: ArmedRule[] = [];

  constructor(readonly inner: Store) {
    super();
  }

  /** Adds a rule; calls are counted from now. */
  fail(rule: FaultRule): this {
    this.#rules.push({
      operation: rule.operation,
      nth: rule.nth ?? 1,
      times: rule.times ?? 1,
      match: rule.match ?? (() => true),
      afterBytes: rule.afterBytes,
      seen: 0,
      failed: 0,
    });
    return this;
  }

  /** Removes every rule, or every rule of one operation. */
  clear(operation?: FaultOperation): this {
    this.#rules =
      operation === undefined ? [] : this.#rules.filter((rule) => rule.operation !== operation);
    return this;
  }

  /** How many faults fired. */
  get faults(): number {
    return this.calls.filter((call) => call.faulted).length;
  }

  /** The rule that fires for this call, if any (counting the call for every rule it matches). */
  #fire(operation: FaultOperation, key: ImageKey): ArmedRule | undefined {
    let firing: ArmedRule | undefined;
    for (const rule of this.#rules) {
      if (rule.operation !== operation || !rule.match(key)) continue;
      rule.seen += 1;
      if (firing === undefined && rule.seen >= rule.nth && rule.failed < rule.times) {
        rule.failed += 1;
        firing = rule;
      }
    }
    this.calls.push({ operation, key: describeKey(key), faulted: firing !== undefined });
    return firing;
  }

  override async putFile(
    file: FileInput,
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
    reproducible: boolean,
  ): Promise<void> {
    const key = { objectType, objectId, width, height, mimetype };
    const rule = this.#fire('putFile', key);
    if (rule !== undefined && rule.afterBytes === undefined) {
      if (file instanceof Readable) file.destroy();
      throw new InjectedFault('putFile', key);
    }
    const input =
      rule === undefined ? file : cutAfter(toStream(file), rule.afterBytes!, 'putFile', key);
    await this.inner.putFile(input, objectType, objectId, width, height, mimetype, reproducible);
  }

  override async getFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<Readable> {
    const key = { objectType, objectId, width, height, mimetype };
    const rule = this.#fire('getFile', key);
    if (rule !== undefined && rule.afterBytes === undefined)
      throw new InjectedFault('getFile', key);
    const stream = await this.inner.getFile(objectType, objectId, width, height, mimetype);
    return rule === undefined ? stream : cutAfter(stream, rule.afterBytes!, 'getFile', key);
  }

  override getUrl(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): string {
    return this.inner.getUrl(objectType, objectId, width, height, mimetype);
  }

  override async deleteFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ): Promise<void> {
    const key = { objectType, objectId, width, height, mimetype };
    if (this.#fire('deleteFile', key) !== undefined) throw new InjectedFault('deleteFile', key);
    await this.inner.deleteFile(objectType, objectId, width, height, mimetype);
  }

  override statFile(
    objectType: string,
    objectId: bigint | number,
    width: number,
    height: number,
    mimetype: string,
  ) {
    const key = { objectType, objectId, width, height, mimetype };
    if (this.#fire('statFile', key) !== undefined) {
      return Promise.reject(new InjectedFault('statFile', key));
    }
    // Never "not there" for a store that cannot tell: that would look like a missing file.
    if (this.inner.statFile === undefined) return Promise.reject(new TypeError('cannot stat'));
    return this.inner.statFile(objectType, objectId, width, height, mimetype);
  }

  override listFiles(): AsyncIterable<ListedFile> {
    if (this.inner.listFiles === undefined) throw new TypeError('the inner store cannot list');
    return this.inner.listFiles();
  }

  override deleteListedFile(file: ListedFile): Promise<void> {
    if (this.inner.deleteListedFile === undefined) throw new TypeError('cannot delete by name');
    return this.inner.deleteListedFile(file);
  }
}

function toStream(file: FileInput): Readable {
  // Small chunks, so that a cut after N bytes lands inside the file, not after it.
  if (!(file instanceof Uint8Array)) return file;
  const chunks: Buffer[] = [];
  for (let at = 0; at < file.length; at += 4096) {
    chunks.push(Buffer.from(file.subarray(at, at + 4096)));
  }
  return Readable.from(chunks, { objectMode: false });
}

/**
 * Passes `limit` bytes through, then fails with {@link InjectedFault}, as a disk or a connection
 * failing mid-file does: the reader gets the first bytes, then the error.
 */
function cutAfter(source: Readable, limit: number, operation: FaultOperation, key: ImageKey) {
  let passed = 0;
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const room = limit - passed;
      // Cut already: the rest never arrives, and the stream never ends cleanly.
      if (room <= 0) return;
      if (chunk.length < room) {
        passed += chunk.length;
        callback(null, chunk);
        return;
      }
      passed = limit;
      callback(null, chunk.subarray(0, room));
      // After the reader has had the bytes before the cut.
      setImmediate(() => cut.destroy(new InjectedFault(operation, key)));
    },
    flush(callback) {
      if (passed < limit) callback();
    },
  });
  source.on('error', (error) => cut.destroy(error));
  cut.on('close', () => source.destroy());
  return source.pipe(cut);
}

function describeKey(key: ImageKey): string {
  return `${key.objectType}/${key.objectId}/${key.width}x${key.height} ${key.mimetype}`;
}

/** The error a refused commit raises. */
export class InjectedCommitFault extends Error {
  readonly code = 'E_INJECTED_COMMIT_FAULT';
}

export interface CommitFaults {
  /** Commits refused so far. */
  readonly refused: number;
  /**
   * Fails the next `count` root commits: `refuse` rolls each back, then rejects; `lose-ack`
   * commits it, then rejects, as when the connection drops before the server's answer.
   */
  failNext(count?: number, mode?: 'refuse' | 'lose-ack'): void;
  /** Disarms and sets `refused` back to 0. */
  reset(): void;
  /** Stops refusing commits and restores the real `commitTransaction`. */
  restore(): void;
}

/**
 * Makes commits fail on demand. A refused commit runs ROLLBACK instead of COMMIT on the
 * transaction's connection and then rejects, so the rows are really gone and the caller sees a
 * failed commit, as with a deferred constraint failing at COMMIT. A commit whose answer is lost
 * commits and then rejects: the caller cannot tell it from a refused one.
 */
export function commitFaults(sequelize: Sequelize): CommitFaults {
  const queryInterface = sequelize.getQueryInterface() as unknown as {
    commitTransaction: (
      this: unknown,
      transaction: Transaction,
      options: object,
    ) => Promise<unknown>;
    rollbackTransaction: (transaction: Transaction, options: object) => Promise<unknown>;
  };
  const real = queryInterface.commitTransaction;
  let armed = 0;
  let refused = 0;
  let mode: 'refuse' | 'lose-ack' = 'refuse';
  queryInterface.commitTransaction = async function commitOrRefuse(transaction, options) {
    const isRoot = (transaction as Transaction & { parent?: unknown }).parent == null;
    if (!isRoot || armed === 0) return real.call(this, transaction, options);
    armed -= 1;
    refused += 1;
    if (mode === 'lose-ack') {
      await real.call(this, transaction, options);
      throw new InjectedCommitFault('COMMIT done, but its answer was lost on purpose');
    }
    await queryInterface.rollbackTransaction(transaction, options);
    throw new InjectedCommitFault('COMMIT refused on purpose; the transaction was rolled back');
  };
  return {
    get refused() {
      return refused;
    },
    failNext(count = 1, how = 'refuse') {
      armed += count;
      mode = how;
    },
    reset() {
      armed = 0;
      refused = 0;
    },
    restore() {
      armed = 0;
      queryInterface.commitTransaction = real;
    },
  };
}
