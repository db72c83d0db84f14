/**
 * Which guilds the bot serves at all (seed 002's allowed_tenants): the operator's ALLOWED_GUILDS, empty meaning
 * every guild. A guild off the list gets one clear refusal for every command, autocomplete and button, and the
 * operator's log names it once per process, so a bot added to a stranger's server is visible without a log flood.
 */
import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import { UserError } from '../shared/errors.js';
import { SNOWFLAKE_PATTERN } from '../shared/snowflake.js';

/** ALLOWED_GUILDS as the config reads it: comma-separated guild ids; empty or unset admits every guild. */
export const guildAllowListSchema = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((id) => id.trim()).filter((id) => id !== ''))
  .refine((ids) => ids.every((id) => SNOWFLAKE_PATTERN.test(id)), 'Discord server ids (17 to 20 digits), separated by commas')
  .transform((ids): ReadonlySet<string> | null => (ids.length === 0 ? null : new Set(ids)));

export class GuildNotEnabled extends UserError {
  constructor() {
    super('guild.not_enabled', "This server is not enabled for Cloud ChatOps. Ask the bot's operator to enable it.");
  }
}

export class GuildAdmission {
  readonly #allowed: ReadonlySet<string> | null;
  readonly #logged = new Set<string>();

  /** @param allowed the ids admitted; null admits every guild. */
  constructor(
    allowed: ReadonlySet<string> | null,
    private readonly logger: Logger,
  ) {
    this.#allowed = allowed;
  }

  admits(guildId: string): boolean {
    if (this.#allowed === null || this.#allowed.has(guildId)) return true;
    if (!this.#logged.has(guildId)) {
      this.#logged.add(guildId);
      this.logger.warn({ guildId }, 'interaction from a server not in ALLOWED_GUILDS refused (logged once per server)');
    }
    return false;
  }

  /** @throws GuildNotEnabled when the guild is not admitted. */
  require(guildId: string): void {
    if (!this.admits(guildId)) throw new GuildNotEnabled();
  }
}
