/**
 * `npm run credentials:rotate`: re-encrypts every guild's stored credentials under CREDENTIALS_MASTER_KEY (keys
 * named in CREDENTIALS_PREVIOUS_MASTER_KEYS still decrypt), in the database the bot runs on (SQLite at DATABASE_PATH,
 * or PostgreSQL at DATABASE_URL). Safe while the bot runs; prints counts, never a secret.
 */
import { ConfigError, loadConfig } from '../config/index.js';
import { postgresDataAccess, sqliteDataAccess, type DataAccess } from '../db/data-access.js';
import { chooseDatabase } from '../db/dialect.js';
import { openDatabase } from '../db/index.js';
import { openPostgres } from '../db/postgres.js';
import { CredentialStore } from './credential-store.js';
import { MasterKeyring } from './master-keys.js';

async function openData(config: ReturnType<typeof loadConfig>): Promise<{ data: DataAccess; close: () => unknown }> {
  const choice = chooseDatabase(config);
  if (choice.dialect === 'sqlite') {
    const database = openDatabase(choice.path);
    return { data: sqliteDataAccess(database), close: () => database.close() };
  }
  const database = await openPostgres(choice.url, { maxConnections: 2 });
  return { data: postgresDataAccess(database), close: () => database.close() };
}

try {
  const config = loadConfig();
  const database = await openData(config);
  try {
    const report = await new CredentialStore(database.data, MasterKeyring.fromConfig(config)).rotate();
    process.stdout.write(`Re-encrypted ${report.reencrypted} stored credential(s) under key '${config.CREDENTIALS_MASTER_KEY_ID}'.\n`);
    for (const row of report.unreadable) {
      process.stdout.write(`Unreadable with the configured keys: guild ${row.guildId}, '${row.name}' (key '${row.masterKeyId}').\n`);
    }
    process.exitCode = report.unreadable.length === 0 ? 0 : 2;
  } finally {
    await database.close();
  }
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`Could not rotate: ${message}\n`);
  process.exitCode = 1;
}
