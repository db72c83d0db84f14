/**
 * The bot's database, opened as the configuration says (dialect.ts chooses): a SQLite file at DATABASE_PATH, or the
 * PostgreSQL server of DATABASE_URL. Either way the process lock is taken first (a second bot on the same database, or
 * a second shard of one id, stops here having changed nothing), then the migrations are applied, and the rest of the
 * bot is handed a DataAccess (data-access.ts), not a dialect.
 */
import type { Config } from '../config/index.js';
import { acquireProcessLock, type ProcessLock } from '../app/process-lock.js';
import type { ShardScope } from '../sharding/shard-scope.js';
import { postgresDataAccess, sqliteDataAccess, type DataAccess } from './data-access.js';
import { chooseDatabase } from './dialect.js';
import { openDatabase, type DatabaseHandle } from './index.js';
import { acquirePostgresProcessLock } from './pg-process-lock.js';
import { describeDatabaseUrl, openPostgres } from './postgres.js';

export interface BotDatabase {
  readonly data: DataAccess;
  /** SQLite's connection, for what exists only there (WAL checkpoints, erasure checkpoints); undefined on PostgreSQL. */
  readonly sqlite: DatabaseHandle | undefined;
  /** Where the data is, safe to log: the file, or the server and database (never the user or password). */
  readonly where: string;
  /** Closes the database, then gives up the process lock. */
  close(): Promise<void>;
}

export interface BotDatabaseOptions {
  now: number;
  /** The shard this process runs: it then locks only its own shard's guilds. */
  shard?: ShardScope;
  /** PostgreSQL: the lock's connection was lost (the server restarted), so another process could start on the shard. */
  onLockLost?: (error: Error) => void;
}

export async function openBotDatabase(config: Pick<Config, 'DATABASE_PATH' | 'DATABASE_URL'>, options: BotDatabaseOptions): Promise<BotDatabase> {
  const choice = chooseDatabase(config);
  if (choice.dialect === 'sqlite') {
    const lock = acquireProcessLock(choice.path, options.now, options.shard);
    try {
      const handle = openDatabase(choice.path);
      return {
        data: sqliteDataAccess(handle),
        sqlite: handle,
        where: choice.path,
        close: async () => {
          handle.close();
          lock.release();
        },
      };
    } catch (error) {
      lock.release();
      throw error;
    }
  }
  let lock: ProcessLock | undefined;
  const handle = await openPostgres(choice.url, {
    beforeMigrations: async (pool) => {
      const taken = await acquirePostgresProcessLock({ url: choice.url, pool, now: options.now, shard: options.shard, onLost: options.onLockLost });
      lock = taken;
      return () => taken.release();
    },
  });
  return {
    data: postgresDataAccess(handle),
    sqlite: undefined,
    where: describeDatabaseUrl(choice.url),
    close: async () => {
      // The lock's connection is the pool's: given back (and closed) before the pool can end.
      lock?.release();
      await handle.close();
    },
  };
}
