/**
 * Discord's JSON error bodies. discord.js turns them into DiscordAPIError with `code` and `status`, so the bot under
 * test sees exactly what it would see from Discord.
 */
export interface DiscordErrorBody {
  code: number;
  message: string;
  errors?: Record<string, unknown>;
}

export class DiscordHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: DiscordErrorBody,
  ) {
    super(`${status} ${body.code}: ${body.message}`);
  }
}

export const discordErrors = {
  unauthorized: () => new DiscordHttpError(401, { code: 0, message: '401: Unauthorized' }),
  notFound: () => new DiscordHttpError(404, { code: 0, message: '404: Not Found' }),
  unknownChannel: () => new DiscordHttpError(404, { code: 10003, message: 'Unknown Channel' }),
  unknownGuild: () => new DiscordHttpError(404, { code: 10004, message: 'Unknown Guild' }),
  unknownMember: () => new DiscordHttpError(404, { code: 10007, message: 'Unknown Member' }),
  unknownMessage: () => new DiscordHttpError(404, { code: 10008, message: 'Unknown Message' }),
  unknownUser: () => new DiscordHttpError(404, { code: 10013, message: 'Unknown User' }),
  unknownWebhook: () => new DiscordHttpError(404, { code: 10015, message: 'Unknown Webhook' }),
  unknownApplicationCommand: () => new DiscordHttpError(404, { code: 10063, message: 'Unknown application command' }),
  unknownInteraction: () => new DiscordHttpError(404, { code: 10062, message: 'Unknown interaction' }),
  emptyMessage: () => new DiscordHttpError(400, { code: 50006, message: 'Cannot send an empty message' }),
  cannotMessageUser: () => new DiscordHttpError(403, { code: 50007, message: 'Cannot send messages to this user' }),
  missingPermissions: () => new DiscordHttpError(403, { code: 50013, message: 'Missing Permissions' }),
  invalidWebhookToken: () => new DiscordHttpError(401, { code: 50027, message: 'Invalid Webhook Token' }),
  invalidRecipient: () => new DiscordHttpError(400, { code: 50033, message: 'Invalid Recipient(s)' }),
  alreadyAcknowledged: () =>
    new DiscordHttpError(400, { code: 40060, message: 'Interaction has already been acknowledged.' }),
  invalidFormBody: (problems: FormProblem[]) =>
    new DiscordHttpError(400, { code: 50035, message: 'Invalid Form Body', errors: nestErrors(problems) }),
};

/** One invalid field: where it is in the body and what Discord would say about it. */
export interface FormProblem {
  path: readonly (string | number)[];
  code: string;
  message: string;
}

/** Discord nests field errors by path with `_errors` leaves; discord.js flattens that into its error message. */
function nestErrors(problems: FormProblem[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const problem of problems) {
    let node = root;
    for (const key of problem.path) {
      const existing = node[String(key)];
      const next: Record<string, unknown> =
        typeof existing === 'object' && existing !== null ? (existing as Record<string, unknown>) : {};
      node[String(key)] = next;
      node = next;
    }
    const leaf = Array.isArray(node._errors) ? (node._errors as unknown[]) : [];
    leaf.push({ code: problem.code, message: problem.message });
    node._errors = leaf;
  }
  return root;
}
