/**
 * `npm run db:migrate-to-postgres`: copies the bot's SQLite database (DATABASE_PATH) into an empty PostgreSQL
 * database (DATABASE_URL), after bringing both to the latest migration. Run with the bot stopped: it takes the
 * bot's process lock on DATABASE_PATH, so a running bot (or a second copy) makes it stop before anything changes.
 * Prints the rows copied per table; never the URL's password.
 */
import { existsSync } from 'node:fs';
import { acquireProcessLock } from '../app/process-lock.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { openDatabase } from './index.js';
import { copySqliteToPostgres } from './migrate-to-postgres.js';
import { describeDatabaseUrl, openPostgres } from './postgres.js';

const USAGE = `Usage: npm run db:migrate-to-postgres

Copies every table of the SQLite database at DATABASE_PATH into the empty PostgreSQL database at DATABASE_URL
(postgres://user:password@host:5432/name), in one transaction, ids included. Stop the bot first.
The bot itself still runs on SQLite only: unset DATABASE_URL again before npm start (README.md, "PostgreSQL").
`;

class UsageError extends Error {}

async function run(out: (text: string) => void): Promise<void> {
  const config = loadConfig();
  if (config.DATABASE_URL === undefined) throw new UsageError('set DATABASE_URL to the PostgreSQL database to copy into.');
  if (config.DATABASE_PATH === ':memory:' || !existsSync(config.DATABASE_PATH)) {
    throw new UsageError(`there is no SQLite database at DATABASE_PATH (${config.DATABASE_PATH}) to copy: point DATABASE_PATH at the bot's database file.`);
  }
  const lock = acquireProcessLock(config.DATABASE_PATH, Date.now());
  try {
    const sqlite = openDatabase(config.DATABASE_PATH);
    try {
      const target = await openPostgres(config.DATABASE_URL, { maxConnections: 2 });
      try {
        const copied = await copySqliteToPostgres(sqlite.sqlite, target.db);
        const width = Math.max(...copied.map(({ table }) => table.length));
        out(`Copied ${config.DATABASE_PATH} into PostgreSQL at ${describeDatabaseUrl(config.DATABASE_URL)}:`);
        for (const { table, rows } of copied) out(`  ${table.padEnd(width)}  ${rows} row(s)`);
        out(`  ${'total'.padEnd(width)}  ${copied.reduce((sum, { rows }) => sum + rows, 0)} row(s)`);
        out('The bot still runs on SQLite only: keep DATABASE_URL unset for npm start until the bot supports PostgreSQL.');
      } finally {
        await target.close();
      }
    } finally {
      sqlite.close();
    }
  } finally {
    lock.release();
  }
}

if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
  process.stdout.write(USAGE);
} else {
  try {
    await run((text) => process.stdout.write(`${text}\n`));
  } catch (error) {
    if (error instanceof UsageError) process.stderr.write(`Could not copy: ${error.message}\n\n${USAGE}`);
    else process.stderr.write(`Could not copy: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
