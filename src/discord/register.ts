/**
 * `npm run register`: publishes the command registry to one guild (DISCORD_GUILD_ID: instant, for development)
 * or globally (may take up to an hour to appear everywhere).
 */
import { REST, Routes } from 'discord.js';
import { allCommands } from '../../commands/index.js';
import { ConfigError, loadConfig } from '../config/index.js';

async function register(): Promise<void> {
  const config = loadConfig();
  if (!config.DISCORD_TOKEN || !config.DISCORD_APPLICATION_ID) {
    throw new Error('npm run register needs DISCORD_TOKEN and DISCORD_APPLICATION_ID (see README.md).');
  }
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN);
  const body = allCommands.map((command) => command.definition);
  const route = config.DISCORD_GUILD_ID
    ? Routes.applicationGuildCommands(config.DISCORD_APPLICATION_ID, config.DISCORD_GUILD_ID)
    : Routes.applicationCommands(config.DISCORD_APPLICATION_ID);
  await rest.put(route, { body });
  process.stdout.write(
    `Published ${body.length} commands ${config.DISCORD_GUILD_ID ? `to guild ${config.DISCORD_GUILD_ID}` : 'globally'}.\n`,
  );
}

register().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error);
  process.stderr.write(`Could not register commands: ${message}\n`);
  process.exit(1);
});
