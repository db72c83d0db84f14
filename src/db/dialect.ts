/**
 * Which database the bot runs on: SQLite at DATABASE_PATH, or PostgreSQL when DATABASE_URL is set (issue 16). The
 * choice is made here alone; the rest of the bot is handed a database, not a dialect.
 *
 * For now only SQLite can run the bot. The repositories are being moved onto an asynchronous seam both dialects
 * implement (data-access.ts); the JIT grants, requests and extensions and their janitor jobs are on it, on SQLite and on PostgreSQL, but the rest
 * of the bot's repositories are still synchronous, as better-sqlite3 is, and PostgreSQL's driver is not. Until every
 * one is converted, a DATABASE_URL is refused at start-up rather than ignored, so no operator believes the bot writes
 * to PostgreSQL while it writes to a SQLite file.
 */
import type { Config } from '../config/index.js';

export type DatabaseChoice = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

export function chooseDatabase(config: Pick<Config, 'DATABASE_PATH' | 'DATABASE_URL'>): DatabaseChoice {
  return config.DATABASE_URL !== undefined ? { dialect: 'postgres', url: config.DATABASE_URL } : { dialect: 'sqlite', path: config.DATABASE_PATH };
}

/** The bot was told to run on PostgreSQL, which it cannot do yet. The message is for the operator, as it is. */
export class PostgresNotYetSupported extends Error {
  constructor() {
    super(
      'DATABASE_URL is set, but the bot cannot run on PostgreSQL yet: its schema, its migrations, the copy tool ' +
        '(npm run db:migrate-to-postgres) and the JIT grants, requests and extensions exist on it so far, not the rest of its data. Unset DATABASE_URL (in the environment and in .env) to run on SQLite ' +
        'at DATABASE_PATH, as before. README.md, "PostgreSQL", says what is ready.',
    );
    this.name = 'PostgresNotYetSupported';
  }
}

/** The SQLite file the bot runs on; throws PostgresNotYetSupported when DATABASE_URL asks for PostgreSQL. */
export function botDatabasePath(config: Pick<Config, 'DATABASE_PATH' | 'DATABASE_URL'>): string {
  const choice = chooseDatabase(config);
  if (choice.dialect === 'postgres') throw new PostgresNotYetSupported();
  return choice.path;
}
