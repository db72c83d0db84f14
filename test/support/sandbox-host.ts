/**
 * A stand-in for the bot in sandbox tests: a process with the bot's secrets in its own environment (whatever the
 * test gives it, e.g. DISCORD_TOKEN) that runs engine commands one after another in a workspace through the
 * executor the product would choose (`engineExecutorFor`), with an engine environment built as runs build it.
 * It writes its pid to `<workspace>/bot.pid` first (so a module can look for the bot's /proc entry), prints
 * `spawned <engine pid>` as each engine starts and `exit <code>` as each ends, and exits 0 once every command has.
 *
 * Usage: node --import tsx test/support/sandbox-host.ts <bwrap|off> <deployments root> <database file> <workspace>
 *          <engine binary> <args...> [-- <args...>]...
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildChildEnv } from '../../src/engine/child-env.js';
import { RunStopper } from '../../src/engine/process.js';
import { engineExecutorFor } from '../../src/engine/sandbox-check.js';

const [mode, deploymentsRoot, databasePath, workspace, binary, ...rest] = process.argv.slice(2);
if ((mode !== 'bwrap' && mode !== 'off') || !deploymentsRoot || !databasePath || !workspace || !binary) {
  throw new Error('usage: sandbox-host <bwrap|off> <deployments root> <database file> <workspace> <engine> <args...> [-- <args...>]...');
}
const commands: string[][] = [[]];
for (const arg of rest) {
  if (arg === '--') commands.push([]);
  else commands.at(-1)?.push(arg);
}

writeFileSync(join(workspace, 'bot.pid'), String(process.pid));
const pathEnv = process.env.PATH ?? '/usr/bin:/bin';
const executor = engineExecutorFor({ sandbox: mode, readOnlyPaths: [], deploymentsRoot, databasePath, pathEnv, logger: pino({ level: 'silent' }) });
const env = buildChildEnv({ pathEnv, home: join(workspace, '.home'), pluginCacheDir: join(deploymentsRoot, '.plugin-cache'), credentialEnv: {} });
for (const args of commands) {
  const result = await executor.run({
    binary,
    args,
    cwd: workspace,
    env,
    guildId: '111111111111111111',
    stopper: new RunStopper(10_000, undefined, (engine) => process.stdout.write(`spawned ${engine.pid}\n`)),
    onStdoutLine: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`exit ${result.exitCode ?? result.signal}\n`);
  if (result.exitCode !== 0) {
    process.stderr.write(result.stderrTail);
    process.exit(1);
  }
}
