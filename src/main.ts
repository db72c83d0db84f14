/**
 * `npm start`: the Discord bot. `npm run console` (or `npm start -- --console`): the same bot in a terminal.
 */
import { performance } from 'node:perf_hooks';
import { ConfigError, loadConfig, readEnvironment, type Config } from './config/index.js';
import { parseShardingSettings, type ShardingSettings } from './config/sharding.js';
import type { ShardScope } from './sharding/shard-scope.js';
import { buildCore, type Core } from './app/bootstrap.js';
import { createLogger, type Logger } from './logging/logger.js';
import { systemClock } from './shared/clock.js';
import { allCommands, allComponentHandlers } from '../commands/index.js';
import { CommandDispatcher } from './interaction/dispatcher.js';
import { LastResort } from './app/last-resort.js';
import { handleShutdownSignals } from './app/shutdown-signals.js';

const USAGE = `Usage: npm start [-- --console [--user NAME] [--admin]]

  (no flags)    run the Discord bot (needs DISCORD_TOKEN in .env; see README.md, "Running the Discord bot");
                without a token, in a terminal: the same bot in this terminal, as a server admin
  --console     run the same bot in this terminal instead (same as: npm run console)
  --help, -h    this help (with --console: the console's flags)

  npm run demo  the console as a server admin with a stand-in engine and throwaway data
  SHARDS=auto npm start   several shards, each a process (README.md, "Running several shards")
Settings come from the environment and .env: README.md, "Configuration", lists every variable.
`;

function readConfig(): { config: Config; sharding: ShardingSettings } {
  try {
    return { config: loadConfig(), sharding: parseShardingSettings(readEnvironment()) };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee README.md, "Configuration", for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }
}

function requireToken(config: Config): string {
  if (config.DISCORD_TOKEN) return config.DISCORD_TOKEN;
  process.stderr.write(
    'DISCORD_TOKEN is not set, so the bot cannot connect to Discord.\n' +
      'Put your bot token in .env (see README.md, "Running the Discord bot"), or try every command locally first with: npm run console\n' +
      '(npm start in a terminal, with no token, runs that console by itself.)\n',
  );
  process.exit(1);
}

/** `shard`: this process is one shard, started by the sharding manager (src/discord/shard-manager.ts). */
async function runDiscord(config: Config, logger: Logger, lastResort: LastResort, shard?: ShardScope): Promise<void> {
  const token = requireToken(config);
  const { createDiscordClient, DiscordBot } = await import('./discord/discord-bot.js');
  const { describeConnectionError } = await import('./discord/connection-errors.js');
  const { DiscordNotifier } = await import('./discord/discord-notifier.js');
  // In a shard, discord.js reads its shard from the variables the manager set (SHARDS, SHARD_COUNT).
  const client = createDiscordClient(config);
  let lockLost = false;
  const core: Core = await buildCore({
    config,
    clock: systemClock,
    logger,
    notifier: new DiscordNotifier(client),
    shard,
    // Without its lock another process could start on these guilds: stop the graceful way rather than serve them twice,
    // and exit non-zero so that a process manager (or the shard manager) starts the bot again.
    onDatabaseLockLost: (error) => {
      lockLost = true;
      logger.error({ err: error }, 'lost the database lock (PostgreSQL connection gone): stopping');
      process.kill(process.pid, 'SIGTERM');
    },
  });
  lastResort.attach(core.app);
  const dispatcher = new CommandDispatcher(allCommands, core.app, { components: allComponentHandlers });
  const bot = new DiscordBot(client, dispatcher, systemClock, logger);
  let stopping = false;
  handleShutdownSignals(process, {
    logger,
    clock: { now: () => performance.now() },
    exit: (code) => process.exit(lockLost && code === 0 ? 1 : code),
    stop: async () => {
      stopping = true;
      bot.stopAccepting();
      // Engines get SIGINT at once (they save state and release their locks); the handlers waiting on them then
      // finish by telling their members the run was stopped, before the gateway connection closes.
      await Promise.all([core.app.runner.shutdown(), bot.drain()]);
      await bot.disconnect();
      await core.shutdown();
    },
  });
  // A shard whose manager went away (killed with -9) stops as if told to, rather than serve on unsupervised.
  if (shard) process.once('disconnect', () => stopping || process.kill(process.pid, 'SIGTERM'));
  try {
    await bot.start(token);
  } catch (error) {
    const explained = describeConnectionError(error, config.DISCORD_API_URL);
    if (!explained) throw error;
    logger.error({ err: error }, 'could not connect to Discord');
    await core.shutdown();
    process.stderr.write(`Cloud ChatOps could not start: ${explained}\n`);
    process.exit(1);
  }
  core.janitor.start();
  await core.announceInterruptedRuns();
}

async function runShardManager(config: Config, sharding: Extract<ShardingSettings, { role: 'manager' }>, logger: Logger): Promise<void> {
  const token = requireToken(config);
  const { ShardManager, fetchGatewayBot } = await import('./discord/shard-manager.js');
  const { describeConnectionError } = await import('./discord/connection-errors.js');
  let gateway;
  try {
    gateway = await fetchGatewayBot(token, config.DISCORD_API_URL);
  } catch (error) {
    const explained = describeConnectionError(error, config.DISCORD_API_URL);
    if (!explained) throw error;
    process.stderr.write(`Cloud ChatOps could not start: ${explained}\n`);
    process.exit(1);
  }
  const totalShards = sharding.totalShards === 'auto' ? gateway.shards : sharding.totalShards;
  const manager = await ShardManager.prepare({
    file: process.argv[1] ?? '',
    args: process.argv.slice(2),
    // Under tsx (the tests), the shards need its loader too; the bundle needs nothing.
    execArgv: process.execArgv,
    token,
    database: config,
    totalShards,
    shardList: sharding.shardList === 'auto' ? undefined : sharding.shardList,
    maxConcurrency: gateway.maxConcurrency,
    logger,
  });
  logger.info({ totalShards, shards: manager.shardIds }, 'starting shards');
  handleShutdownSignals(process, {
    logger,
    clock: { now: () => performance.now() },
    exit: (code) => process.exit(code),
    stop: (signal) => manager.stop(signal),
  });
  try {
    await manager.start();
  } catch (error) {
    process.stderr.write(`Cloud ChatOps could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

async function runConsole(config: Config, logger: Logger, lastResort: LastResort, argv: readonly string[]): Promise<void> {
  const { runConsoleFrontEnd } = await import('./console/console-front-end.js');
  await runConsoleFrontEnd({ config, logger, argv, onCore: (core) => lastResort.attach(core.app) });
}

/**
 * `npm start` in a terminal with no token: rather than stop, run the same bot in that terminal (the console) with
 * the configured data, as a server admin, since whoever runs the process owns its data anyway. A process manager
 * (no terminal) still gets the refusal below, so a missing token never passes for a running bot.
 */
async function runEmbeddedDefault(config: Config, logger: Logger, lastResort: LastResort): Promise<void> {
  process.stderr.write(
    'DISCORD_TOKEN is not set, so the bot runs here, in this terminal (the console), as a server admin.\n' +
      'Put your bot token in .env to connect to Discord (README.md, "Running the Discord bot").\n',
  );
  await runConsole(config, logger, lastResort, ['--admin']);
}

type FrontEnd = 'discord' | 'console' | 'embedded-console';

function chooseFrontEnd(config: Config): FrontEnd {
  if (process.argv.includes('--console')) return 'console';
  return !config.DISCORD_TOKEN && process.stdin.isTTY ? 'embedded-console' : 'discord';
}

async function main(): Promise<void> {
  // Help needs no configuration (the console prints its own, with its flags).
  if (!process.argv.includes('--console') && process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const { config, sharding } = readConfig();
  const frontEnd = chooseFrontEnd(config);
  // In a console, logs would interleave with the conversation: they go to stderr, warnings and up only.
  const base =
    frontEnd === 'discord'
      ? createLogger(config.LOG_LEVEL)
      : createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, process.stderr);
  // Each shard's lines say which shard wrote them (they share the manager's stdout).
  const shardTag = frontEnd !== 'discord' || sharding.role === 'single' ? undefined : sharding.role === 'shard' ? sharding.shard.id : 'manager';
  const logger = shardTag === undefined ? base : base.child({ shard: shardTag });
  // An error nothing caught: stop the engines, tell the members whose runs were under way, exit non-zero.
  const lastResort = new LastResort({ logger, exit: (code) => process.exit(code) }).install(process);
  // A console is one process whatever the sharding settings say: it serves one made-up guild.
  if (frontEnd === 'console') await runConsole(config, logger, lastResort, process.argv.slice(2));
  else if (frontEnd === 'embedded-console') await runEmbeddedDefault(config, logger, lastResort);
  else if (sharding.role === 'manager') await runShardManager(config, sharding, logger);
  else await runDiscord(config, logger, lastResort, sharding.role === 'shard' ? sharding.shard : undefined);
}

main().catch((error: unknown) => {
  // Start-up failed (unreadable database, unusable pricing file...): one clear line, no stack trace.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`Cloud ChatOps could not start: ${message}\n`);
  process.exit(1);
});
