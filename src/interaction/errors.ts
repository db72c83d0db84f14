import type { z } from 'zod';
import { UserError } from '../shared/errors.js';

/** One or more command options failed validation; the message lists each with what is expected. */
export class InvalidOptions extends UserError {
  constructor(readonly problems: string[]) {
    super('options.invalid', `Some options are not valid:\n${problems.map((p) => `• ${p}`).join('\n')}`);
  }

  static fromZod(error: z.ZodError): InvalidOptions {
    return new InvalidOptions(
      error.issues.map((issue) => {
        const name = issue.path.filter((part) => typeof part === 'string' && part !== 'subcommand').join('.');
        return name ? `\`${name}\`: ${issue.message}` : issue.message;
      }),
    );
  }
}

export class RateLimited extends UserError {
  constructor(scope: 'member' | 'guild', retryAfterMs: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(
      'rate.limited',
      scope === 'member'
        ? `You are sending commands too quickly. Try again in ${seconds} s.`
        : `This server is sending commands too quickly. Try again in ${seconds} s.`,
    );
  }
}

export class AdminOnly extends UserError {
  constructor(commandName: string) {
    super(
      'permission.admin_only',
      `/${commandName} is for server admins: it needs the Manage Server permission. Ask a server admin to run it.`,
    );
  }
}

export class GuildOnly extends UserError {
  constructor() {
    super('guild.only', 'Cloud ChatOps commands work inside a server, not in direct messages.');
  }
}
