/**
 * pg-boss's `db` option over a Sequelize transaction: its statements run on the transaction's
 * connection, so a job sent through it commits and rolls back with the rows.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

/** pg-boss's `Db`: what its `db` option takes. */
export interface JobsDb {
  executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

export function transactionDb(sequelize: Sequelize, transaction: Transaction): JobsDb {
  return {
    async executeSql(text, values) {
      // pg-boss leaves unset options `undefined`; the pg driver would send them as NULL, but
      // Sequelize's bind parameters refuse them.
      const bind = values.map((value) => (value === undefined ? null : value));
      const rows = await sequelize.query<Record<string, unknown>>(text, {
        bind,
        transaction,
        type: QueryTypes.SELECT,
      });
      return { rows };
    },
  };
}
