/**
 * The first answer to an interaction (`POST /interactions/{id}/{token}/callback`), sent over a kept-alive
 * connection of our own instead of through discord.js's REST manager. That call is on every interaction's path
 * and, in the load benchmark, discord.js's queueing plus undici cost a bare discord.js bot a quarter of its CPU per
 * interaction (0.64–0.66 → 0.48–0.51 ms at 1000/s with node's own HTTP client; docs/performance.md). It is sent
 * through undici's lowest layer (a pool's `dispatch`, the body collected by hand), the HTTP client discord.js itself
 * ships: node's `http.request` spent a median 16 µs more CPU a request than that (bench/callback-clients.ts), on
 * agent bookkeeping and stream objects an answer of a few bytes does not need (docs/performance.md). Interaction
 * callbacks are not subject to the bot's global rate limit and carry their own token, so there is no bucket to
 * share with discord.js; a 429 is still honoured (its `retry_after`, then again).
 *
 * What discord.js would have recorded is recorded on the interaction (`replied`, `deferred`, `ephemeral`,
 * `responded`), so its own `editReply`, `followUp` and `deleteReply` work after it. Failures are discord.js's own
 * `DiscordAPIError` (the token left out of its url), so callers handle them as before. Replies with files still go
 * through discord.js (multipart).
 */
import {
  DefaultRestOptions,
  DefaultUserAgent,
  DiscordAPIError,
  InteractionResponseType,
  type APIApplicationCommandOptionChoice,
  type APIInteractionResponseCallbackData,
  type Client,
  type RESTPostAPIInteractionCallbackJSONBody,
} from 'discord.js';
import { Pool, type Dispatcher } from 'undici';
import { z } from 'zod';

/** Read once: each read of a discord.js export passes through layers of re-export getters. */
const { ChannelMessageWithSource, DeferredChannelMessageWithSource, ApplicationCommandAutocompleteResult } = InteractionResponseType;
const EPHEMERAL = 1 << 6;
/** "Interaction has already been acknowledged": on a resend, the first attempt got through after all. */
const ALREADY_ACKNOWLEDGED = 40060;
const ATTEMPTS = 3;
const MAX_CONNECTIONS = 256;
const TIMEOUT_MS = 15_000;
/** Never wait longer for a 429 than the interaction's 3 seconds would allow anyway. */
const MAX_RETRY_AFTER_MS = 2_500;

const errorBodySchema = z.looseObject({ code: z.union([z.number(), z.string()]).optional(), message: z.string().optional(), retry_after: z.number().optional() });

/** The parts of a discord.js interaction this sends for and records on. */
interface Answerable {
  readonly id: string;
  readonly token: string;
}
interface RepliableState extends Answerable {
  replied: boolean;
  deferred: boolean;
  ephemeral: boolean | null;
}
interface AutocompleteState extends Answerable {
  responded: boolean;
}

interface Response {
  status: number;
  body: string;
}

export class InteractionCallbacks {
  readonly #base: URL;
  /** The path every callback's path starts with (`/api/v10/`): a URL built per request was a tenth of its CPU. */
  readonly #basePath: string;
  readonly #pool: Pool;
  /** Flat `name, value` pairs, built once: undici takes them as they are. */
  readonly #headers: string[];

  /** @param api the REST base discord.js uses (`https://…/api`, or DISCORD_API_URL), without the version */
  constructor(api: string, version: string, userAgent: string) {
    this.#base = new URL(`${api.replace(/\/+$/, '')}/v${version}/`);
    this.#basePath = this.#base.pathname;
    // Connections needed = answers per second × round trip: 1,000/s at Discord's ~100 ms is 100 at once. Beyond
    // the bound, answers wait for a free connection, inside their 3 seconds. Connections are kept alive.
    this.#pool = new Pool(this.#base.origin, { connections: MAX_CONNECTIONS, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
    this.#headers = ['content-type', 'application/json', 'user-agent', userAgent];
  }

  /** For the client's REST settings (its `api`, version and user agent). */
  static of(client: Client): InteractionCallbacks {
    const rest = client.options.rest ?? {};
    const appendix = rest.userAgentAppendix ?? DefaultRestOptions.userAgentAppendix;
    return new InteractionCallbacks(rest.api ?? DefaultRestOptions.api, rest.version ?? DefaultRestOptions.version, `${DefaultUserAgent} ${appendix}`.trim());
  }

  /** Answers with a message (embeds and components already in Discord's JSON, `allowed_mentions` included). */
  async reply(interaction: RepliableState, data: APIInteractionResponseCallbackData): Promise<void> {
    await this.#send(interaction, { type: ChannelMessageWithSource, data });
    interaction.ephemeral = ((data.flags ?? 0) & EPHEMERAL) !== 0;
    interaction.replied = true;
  }

  /** "Thinking…": the answer comes later, as an edit of the original response. */
  async defer(interaction: RepliableState, ephemeral: boolean): Promise<void> {
    await this.#send(interaction, { type: DeferredChannelMessageWithSource, data: { flags: ephemeral ? EPHEMERAL : 0 } });
    interaction.ephemeral = ephemeral;
    interaction.deferred = true;
  }

  async respond(interaction: AutocompleteState, choices: APIApplicationCommandOptionChoice[]): Promise<void> {
    await this.#send(interaction, { type: ApplicationCommandAutocompleteResult, data: { choices } });
    interaction.responded = true;
  }

  /** Closes the kept-alive connections (at shutdown). */
  close(): void {
    this.#pool.destroy().catch(() => undefined);
  }

  async #send(interaction: Answerable, body: RESTPostAPIInteractionCallbackJSONBody): Promise<void> {
    const path = `interactions/${interaction.id}/${interaction.token}/callback`;
    const json = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.#post(path, json);
      } catch (error) {
        // A kept-alive connection the server closed as we wrote to it: the request never arrived; send it again.
        if (attempt < ATTEMPTS && isConnectionReset(error)) continue;
        throw error;
      }
      if (response.status < 300) return;
      const parsed = errorBodySchema.safeParse(safeJson(response.body));
      const error = parsed.success ? parsed.data : {};
      if (attempt > 1 && error.code === ALREADY_ACKNOWLEDGED) return;
      if (response.status === 429 && attempt < ATTEMPTS) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_RETRY_AFTER_MS, Math.max(0, (error.retry_after ?? 0.1) * 1000))));
        continue;
      }
      if (response.status >= 500 && attempt < ATTEMPTS) continue;
      const url = new URL(`interactions/${interaction.id}/:token/callback`, this.#base).href;
      throw new DiscordAPIError(
        { code: Number(error.code ?? 0), message: error.message ?? `HTTP ${response.status}` },
        error.code ?? 0,
        response.status,
        'POST',
        url,
        { body },
      );
    }
  }

  #post(path: string, json: string): Promise<Response> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      const handler: Dispatcher.DispatchHandlers = {
        // undici refuses a handler without it; nothing to do here (no request of ours is ever aborted).
        onConnect: () => undefined,
        onError: reject,
        onHeaders: (statusCode) => {
          status = statusCode;
          return true;
        },
        onData: (chunk) => {
          chunks.push(chunk);
          return true;
        },
        onComplete: () => resolve({ status, body: chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8') }),
      };
      this.#pool.dispatch({ path: this.#basePath + path, method: 'POST', body: json, headers: this.#headers }, handler);
    });
  }
}

/** undici says UND_ERR_SOCKET when the other side closed the connection; node's own codes for the rest. */
function isConnectionReset(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'UND_ERR_SOCKET' || error.code === 'ECONNRESET' || error.code === 'EPIPE');
}

function safeJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
