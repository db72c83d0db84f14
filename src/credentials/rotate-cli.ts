/**
 * `npm run credentials:rotate`: re-encrypts every guild's stored credentials under CREDENTIALS_MASTER_KEY (keys
 * named in CREDENTIALS_PREVIOUS_MASTER_KEYS still decrypt). Safe while the bot runs; prints counts, never a secret.
 */
import { ConfigError, loadConfig } from '../config/index.js';
import { openDatabase } from '../db/index.js';
import { CredentialStore } from './credential-store.js';
import { MasterKeyring } from './master-keys.js';

try {
  const config = loadConfig();
  const database = openDatabase(config.DATABASE_PATH);
  try {
    const report = new CredentialStore(database.db, MasterKeyring.fromConfig(config)).rotate();
    process.stdout.write(`Re-encrypted ${report.reencrypted} stored credential(s) under key '${config.CREDENTIALS_MASTER_KEY_ID}'.\n`);
    for (const row of report.unreadable) {
      process.stdout.write(`Unreadable with the configured keys: guild ${row.guildId}, '${row.name}' (key '${row.masterKeyId}').\n`);
    }
    process.exitCode = report.unreadable.length === 0 ? 0 : 2;
  } finally {
    database.close();
  }
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`Could not rotate: ${message}\n`);
  process.exitCode = 1;
}
