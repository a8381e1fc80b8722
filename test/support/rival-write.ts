/** A database whose first batch is preceded by a rival's write: a race landing between a check and the write it guards. */
import type { Database, Statement } from '../../src/store/db';

export function rivalWritesFirst(database: Database, rival: () => Statement[]): Database & { rivalWritten: () => boolean } {
  let written = false;
  return {
    ...database,
    batch: async (statements) => {
      if (!written) {
        written = true;
        await database.batch(rival());
      }
      return database.batch(statements);
    },
    rivalWritten: () => written,
  };
}
