/**
 * `npm run demo`: the console as a server admin, with the stand-in engine and a throwaway data folder, so a newcomer
 * can run /cloud-init → /cloud-deploy → /cloud-destroy in a minute without Discord, an engine or a cloud account.
 *
 * Only this script knows where the stand-in lives: the bot is handed it as IAC_BIN_DIR, as it would be any engine
 * folder, with the stand-in's own folder readable in the engine sandbox (it is a node script beside its module).
 * The configuration is built here from scratch, not from `.env` or the shell, so a demo never uses the operator's
 * database, deployments or cloud keys; only the sandbox settings are taken from the shell, as the sandbox is turned
 * off only by name (`ENGINE_SANDBOX=off npm run demo` where bubblewrap is not installed). The folder (database,
 * workspaces, the stand-in's invocation log, which records what it was given) is deleted when the console ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/index.js';
import { runConsoleFrontEnd } from '../src/console/console-front-end.js';
import { EngineSandboxUnavailable } from '../src/engine/sandbox-check.js';
import { createLogger } from '../src/logging/logger.js';

const STAND_IN_ENGINE = resolve(dirname(fileURLToPath(import.meta.url)), '../test/fake-engine/bin');
const STAND_IN_FOLDER = dirname(STAND_IN_ENGINE);

const dataDir = mkdtempSync(join(tmpdir(), 'chatops-demo-'));
const removeData = () => rmSync(dataDir, { recursive: true, force: true });
process.on('exit', removeData);

const config = parseConfig({
  DATABASE_PATH: join(dataDir, 'chatops.db'),
  DEPLOYMENTS_DIR: join(dataDir, 'deployments'),
  IAC_BIN_DIR: STAND_IN_ENGINE,
  TF_PLUGIN_CACHE_DIR: join(dataDir, 'plugin-cache'),
  ENGINE_SANDBOX_READ_ONLY_PATHS: STAND_IN_FOLDER,
  ...(process.env.ENGINE_SANDBOX ? { ENGINE_SANDBOX: process.env.ENGINE_SANDBOX } : {}),
  ...(process.env.BWRAP_PATH ? { BWRAP_PATH: process.env.BWRAP_PATH } : {}),
  LOG_LEVEL: 'warn',
});

process.stdout.write(
  [
    'Demo: the console as a server admin, with a stand-in engine that plans and applies without any cloud account.',
    `Data in ${dataDir} (deleted when you leave). Try:`,
    '  /cloud-init provider:gcp project_name:demo region:us-central1     (any project id; Enter skips the key)',
    '  /cloud-deploy project:demo resource_type:vm instance_type:e2-micro disk_size:10',
    '  /cloud-projects      /cloud-destroy project:demo      /help',
    '',
  ].join('\n'),
);

try {
  // Flags given after `npm run demo --` come later, so `--user bob` still wins.
  await runConsoleFrontEnd({ config, logger: createLogger('warn', process.stderr), argv: ['--user', 'demo', '--admin', ...process.argv.slice(2)] });
} catch (error) {
  process.stderr.write(`The demo could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  if (error instanceof EngineSandboxUnavailable) process.stderr.write('For the demo alone (its engine is a stand-in): ENGINE_SANDBOX=off npm run demo\n');
  process.exitCode = 1;
} finally {
  removeData();
}
