/**
 * The invariant checker: walks every row of every image model and every file of the store.
 * Each row's file must exist, be an image of the row's type and size, and (when the caller
 * knows them) have the bytes that were committed; a file no row owns is allowed only where the
 * case says an orphan may be left.
 */
import { createHash } from 'node:crypto';
import type { ModelStatic, Sequelize } from 'sequelize';
import type { Image, ListedFile, Store } from '../../src/index.js';
import { fileIdentity } from '../../src/stores/keys.js';
import { readImageInfo } from '../../src/images/metadata.js';
import { imageModelsOf } from '../../src/migration/migrate.js';

export interface RowState {
  readonly model: string;
  readonly identity: string;
  readonly original: boolean;
  readonly createdAt: number;
  /** The SHA-256 of the file's bytes, or `undefined` when there is no file. */
  readonly sha256: string | undefined;
  /** The parent key columns and discriminators, to count originals per set. */
  readonly set: string;
}

export interface StoreState {
  readonly rows: Map<string, RowState>;
  /** Files of the layout, by identity (temporary files apart). */
  readonly files: Map<string, ListedFile>;
  readonly temporary: ListedFile[];
  /** Files no row owns (identities). */
  readonly orphans: string[];
  /** Everything wrong apart from orphans: rows without files, files that are no image. */
  readonly violations: string[];
}

/** Reads the whole state: every row and its file's bytes, and the store's listing. */
export async function inspect(
  store: Store,
  models: Sequelize | readonly ModelStatic<Image>[],
): Promise<StoreState> {
  const list = Array.isArray(models) ? models : imageModelsOf(models as Sequelize);
  const files = new Map<string, ListedFile>();
  const temporary: ListedFile[] = [];
  for await (const file of store.listFiles!()) {
    if (file.temporary) temporary.push(file);
    else files.set(fileIdentity(file.key), file);
  }
  const rows = new Map<string, RowState>();
  const violations: string[] = [];
  for (const model of list as ModelStatic<Image>[]) {
    for (const row of await model.unscoped().findAll()) {
      const identity = fileIdentity(row);
      const name = `${model.name} ${identity.replace(/\0/g, '/')}`;
      if (rows.has(identity)) violations.push(`${name}: two rows own one file`);
      const bytes = await readAll(store, row).catch((error: unknown) => {
        violations.push(`${name}: no file (${String(error)})`);
        return undefined;
      });
      if (bytes !== undefined) {
        const info = await readImageInfo(bytes).catch(() => undefined);
        if (info === undefined) violations.push(`${name}: the file is not an image`);
        else if (info.mimetype !== row.mimetype) {
          violations.push(`${name}: the file is ${info.mimetype}`);
        } else if (row.original && (info.width !== row.width || info.height !== row.height)) {
          violations.push(`${name}: the file is ${info.width}x${info.height}`);
        }
      }
      const set = (model as unknown as typeof Image).identityAttributes
        .call(model)
        .map((key) => `${key}=${String(row.get(key))}`)
        .join(',');
      rows.set(identity, {
        model: model.name,
        identity,
        original: row.original,
        createdAt: row.createdAt.getTime(),
        sha256: bytes === undefined ? undefined : sha256(bytes),
        set: `${model.name}:${set}`,
      });
    }
  }
  const orphans = [...files.keys()].filter((identity) => !rows.has(identity)).sort();
  return { rows, files, temporary, orphans, violations };
}

export interface Expectations {
  /** The rows there must be, with the SHA-256 of their bytes (`undefined`: any valid image). */
  rows?: Map<string, { createdAt?: number; sha256?: string | undefined }>;
  /** Identities that may be files without rows (or a test of one); `'any'` for crash tests. */
  orphans?: Iterable<string> | ((identity: string) => boolean) | 'any';
  /** Whether temporary files of interrupted writes may be left. @default false */
  temporary?: boolean;
  /** Each set has at most one original. @default true */
  oneOriginalPerSet?: boolean;
}

/** Checks the invariants; returns the problems (an empty list when all hold) and the state. */
export async function checkInvariants(
  store: Store,
  models: Sequelize | readonly ModelStatic<Image>[],
  expected: Expectations = {},
): Promise<{ problems: string[]; state: StoreState }> {
  const state = await inspect(store, models);
  const problems = [...state.violations];
  if (expected.rows !== undefined) {
    for (const [identity, want] of expected.rows) {
      const row = state.rows.get(identity);
      const name = identity.replace(/\0/g, '/');
      if (row === undefined) problems.push(`${name}: the row is gone`);
      else if (want.createdAt !== undefined && row.createdAt !== want.createdAt) {
        problems.push(`${name}: another row (created ${row.createdAt}) took its place`);
      } else if (want.sha256 !== undefined && row.sha256 !== want.sha256) {
        problems.push(`${name}: the bytes are not those committed`);
      }
    }
    for (const identity of state.rows.keys()) {
      if (!expected.rows.has(identity)) {
        problems.push(`${identity.replace(/\0/g, '/')}: an unexpected row`);
      }
    }
  }
  if (expected.orphans !== 'any') {
    const given = expected.orphans ?? [];
    const allowed =
      typeof given === 'function' ? given : (identity: string) => new Set(given).has(identity);
    for (const orphan of state.orphans) {
      if (!allowed(orphan)) problems.push(`${orphan.replace(/\0/g, '/')}: an orphan file`);
    }
  }
  if (!(expected.temporary ?? false)) {
    for (const file of state.temporary) problems.push(`${file.name}: a temporary file was left`);
  }
  if (expected.oneOriginalPerSet ?? true) {
    const originals = new Map<string, number>();
    for (const row of state.rows.values()) {
      if (row.original) originals.set(row.set, (originals.get(row.set) ?? 0) + 1);
    }
    for (const [set, count] of originals) {
      if (count > 1) problems.push(`${set}: ${count} originals`);
    }
  }
  return { problems, state };
}

/** The expectations "nothing changed": exactly the rows of `state`, with their bytes. */
export function unchanged(state: StoreState): Map<string, { createdAt: number; sha256?: string }> {
  return new Map(
    [...state.rows].map(([identity, row]) => [
      identity,
      { createdAt: row.createdAt, sha256: row.sha256 },
    ]),
  );
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(store: Store, image: Image): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.open(image)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
