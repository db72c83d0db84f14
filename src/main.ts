import { ConfigError, loadConfig } from './config/index.js';
import { openDatabase } from './db/index.js';
import { createLogger } from './logging/logger.js';

function main(): void {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee README.md, "Configuration", for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const database = openDatabase(config.DATABASE_PATH);
  logger.info({ database: config.DATABASE_PATH }, 'database ready, migrations applied');
  database.close();
}

main();
