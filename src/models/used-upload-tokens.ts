/**
 * Single use of direct-upload tokens: completing an upload inserts a row keyed by the token's
 * id, so a second completion of the same token fails on the primary key, in every process and
 * on every dialect (SQLite, PostgreSQL, MySQL alike). A row is needed only until its token
 * expires (an expired token is refused before it gets here), so expired rows are pruned.
 *
 * Like the staged-file journal, the table is the library's own: `Image.init` registers its
 * model, so `sequelize.sync()` creates it, and `createImageAttachTables` creates it for
 * databases set up otherwise.
 */
import {
  DataTypes,
  Op,
  UniqueConstraintError,
  type Model,
  type ModelStatic,
  type Sequelize,
} from 'sequelize';
import { JournalTableMissingError, UploadTokenUsedError } from '../errors.js';
import { isMissingTable } from './staged-journal.js';

/** The table of used upload tokens. */
export const USED_UPLOAD_TOKEN_TABLE = 'imageattach_upload_token';
const MODEL_NAME = 'ImageAttachUploadToken';
/** Rows outlive their token by this much, for servers whose clocks disagree a little. */
const PRUNE_MARGIN_MS = 5 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 1000;

interface UsedUploadTokenRow {
  /** The token's id (32 hex digits). */
  readonly id: string;
  readonly expiresAt: Date;
}

type UsedTokenModel = ModelStatic<Model<UsedUploadTokenRow, UsedUploadTokenRow>>;

/** The model on `sequelize`, defined the first time it is asked for. */
export function usedUploadTokenModel(sequelize: Sequelize): UsedTokenModel {
  if (sequelize.isDefined(MODEL_NAME)) return sequelize.model(MODEL_NAME);
  return sequelize.define<Model<UsedUploadTokenRow, UsedUploadTokenRow>>(
    MODEL_NAME,
    {
      id: { type: DataTypes.STRING(32), primaryKey: true, allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: false, field: 'expires_at' },
    },
    { tableName: USED_UPLOAD_TOKEN_TABLE, timestamps: false },
  );
}

const lastPrune = new WeakMap<Sequelize, number>();

/**
 * Marks the token `id` used (in a statement of its own: a failed check after it still leaves
 * the token spent, as the incoming object is gone by then).
 * @throws {UploadTokenUsedError} (403) when it was used before.
 * @throws {JournalTableMissingError} when the table does not exist.
 */
export async function useUploadToken(
  sequelize: Sequelize,
  id: string,
  expiresAt: Date,
): Promise<void> {
  const model = usedUploadTokenModel(sequelize);
  try {
    await model.create({ id, expiresAt });
  } catch (error) {
    if (error instanceof UniqueConstraintError) {
      throw new UploadTokenUsedError(
        'This upload was completed already; each upload token is good for one image.',
        { cause: error },
      );
    }
    if (isMissingTable(error)) {
      throw new JournalTableMissingError(USED_UPLOAD_TOKEN_TABLE, { cause: error });
    }
    throw error;
  }
  const now = Date.now();
  if (now - (lastPrune.get(sequelize) ?? 0) < PRUNE_EVERY_MS) return;
  lastPrune.set(sequelize, now);
  await model.destroy({ where: { expiresAt: { [Op.lt]: new Date(now - PRUNE_MARGIN_MS) } } });
}

/** Makes the token `id` usable again (its completion failed for the store's sake, not its own). */
export async function releaseUploadToken(sequelize: Sequelize, id: string): Promise<void> {
  await usedUploadTokenModel(sequelize).destroy({ where: { id } });
}
