/**
 * Which database the bot runs on: SQLite at DATABASE_PATH, or PostgreSQL when DATABASE_URL is set (issue 16). The
 * choice is made here alone; the rest of the bot is handed a database, not a dialect.
 * bot-database.ts opens the one chosen (lock, migrations) and hands out a DataAccess (data-access.ts).
 */
import type { Config } from '../config/index.js';

export type DatabaseChoice = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

export function chooseDatabase(config: Pick<Config, 'DATABASE_PATH' | 'DATABASE_URL'>): DatabaseChoice {
  return config.DATABASE_URL !== undefined ? { dialect: 'postgres', url: config.DATABASE_URL } : { dialect: 'sqlite', path: config.DATABASE_PATH };
}
