/**
 * The `migrate-range` job: copies one key range of a distributed migration (see
 * `migration/distribute.ts`) with a `MigrationPlan` of its own, and writes its counters to the
 * range's row as it goes, so that any process can show the whole migration. Idempotent with
 * `skipExisting` (on by default for distributed runs): a range retried after its worker died
 * skips what that worker copied. The worker whose range is the last one done ends the
 * migration.
 */
import { finishRunIfLast, WORKER_ID } from './running-key.js';
import type { ModelStatic, Sequelize } from 'sequelize';
import { MigrationError } from '../errors.js';
import { rangeImageSource } from '../migration/key-ranges.js';
import { ensureMigrationTables } from '../migration/distributed-tables.js';
import { MigrationPlan } from '../migration/plan.js';
import { resolveMigrationStore } from '../migration/migration-stores.js';
import type { MigrationOptions } from '../migration/types.js';
import type { Image } from '../models/image.js';
import type { JobKind } from './job-kinds.js';

export interface MigrateRangeData {
  readonly migration: string;
  readonly range: number;
}

/** How often a running range writes its counters (and the migration's heartbeat). */
const FLUSH_MS = 1000;
const MAX_ERRORS = 10;

export const migrateRangeJob: JobKind<MigrateRangeData> = {
  name: 'migrate-range',
  async run(data, context) {
    const { sequelize } = context;
    // Stopped by the worker (the range is retried) or by a cancelled migration (it is not).
    const cancelled = new AbortController();
    const signal = AbortSignal.any([context.signal, cancelled.signal]);
    const tables = await ensureMigrationTables(sequelize);
    const found = await tables.migration.findByPk(data.migration);
    const migration = found?.get({ plain: true });
    if (migration === undefined || migration.state !== 'running') return { ran: false };
    const where = { migrationId: data.migration, rangeIndex: data.range };
    const range = await tables.range.findOne({ where });
    if (range === null || range.get('state') === 'done') return { ran: false };
    const row = range.get({ plain: true });
    const model = modelNamed(sequelize, row.model);
    const options = JSON.parse(migration.options) as MigrationOptions;
    const source = await resolveMigrationStore(sequelize, migration.source);
    const destination = await resolveMigrationStore(sequelize, migration.destination);

    // A retry counts again from zero (what the dead worker copied is now skipped), and its
    // counters replace the dead worker's once they have caught up: progress never goes back.
    const baseline = row.done;
    const counters = { done: 0, migrated: 0, skipped: 0, failed: 0, bytes: 0 };
    const errors: string[] = [];
    const flush = async (state: 'running' | 'done') => {
      const now = new Date();
      const caughtUp = state === 'done' || counters.done >= baseline;
      await tables.range.update(
        {
          ...(caughtUp ? { ...counters, errors: JSON.stringify(errors) } : {}),
          state,
          worker: WORKER_ID,
          updatedAt: now,
        },
        { where },
      );
      const [running] = await tables.migration.update(
        { heartbeatAt: now },
        { where: { id: data.migration, state: 'running' } },
      );
      if (running === 0) cancelled.abort(new Error('the migration was cancelled'));
    };
    await flush('running');
    const plan = new MigrationPlan(
      rangeImageSource(model, rangeOf(row), options.pageSize ?? 500),
      source,
      destination,
      options,
    );
    plan.on('progress', (progress) => {
      counters.done += 1;
      counters[progress.status] += 1;
      counters.bytes += progress.imageBytes;
      if (progress.error !== undefined && errors.length < MAX_ERRORS) {
        errors.push(progress.error.message);
      }
    });
    let flushing = Promise.resolve();
    const timer = setInterval(() => {
      flushing = flushing.then(() => flush('running')).catch(() => undefined);
    }, FLUSH_MS);
    try {
      await plan.execute(undefined, { signal });
    } catch (error) {
      if (cancelled.signal.aborted) return { ran: false };
      // Failed images are the range's result, counted; anything else retries the range.
      if (!(error instanceof MigrationError)) throw error;
    } finally {
      clearInterval(timer);
      await flushing;
    }
    await flush('done');
    await finishIfLast(sequelize, data.migration);
    return { ran: true, ...counters };
  },
};

function modelNamed(sequelize: Sequelize, name: string): ModelStatic<Image> {
  if (!sequelize.isDefined(name)) {
    throw new TypeError(`this worker's Sequelize has no model ${name}: load the same models`);
  }
  return sequelize.model(name) as unknown as ModelStatic<Image>;
}

function rangeOf(row: { after: string | null; upTo: string | null }) {
  return {
    after: row.after === null ? null : (JSON.parse(row.after) as unknown[]),
    upTo: row.upTo === null ? null : (JSON.parse(row.upTo) as unknown[]),
  };
}

/** Ends the migration once no range is left to do; a no-op for every worker but one. */
async function finishIfLast(sequelize: Sequelize, id: string): Promise<void> {
  const tables = await ensureMigrationTables(sequelize);
  await finishRunIfLast(tables.migration, tables.range, id, { migrationId: id });
}
