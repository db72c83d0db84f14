import { randomBytes } from 'node:crypto';
import type { AppContext } from '../app/context.js';
import { isUserError } from '../shared/errors.js';
import { GuildAdmission, GuildNotEnabled } from '../tenancy/admission.js';
import { text, toText } from '../shared/text.js';
import type { Command } from './command.js';
import type { AutocompleteRequest, Choice, Conversation, Message, RawOptions } from './conversation.js';
import type { ComponentPress, DurableComponentHandler } from './durable-components.js';
import { DurableComponents } from './durable-components.js';
import { AdminOnly, RateLimited } from './errors.js';
import { RateLimiter } from './rate-limiter.js';
import { logOperatorNote } from '../logging/operator-note.js';

const MINUTE = 60_000;

type Outcome = 'success' | 'denied' | 'failed' | 'error';

/**
 * The rules every command follows, applied once: the guild allow-list (ALLOWED_GUILDS), rate limits, admin-only
 * checks, option validation, one error path and one log line per interaction (a refusal's code on it). Front ends build a
 * Conversation and call `handle`; handlers see parsed options.
 */
export class CommandDispatcher {
  private readonly byName: Map<string, Command>;
  private readonly memberLimiter: RateLimiter | undefined;
  private readonly guildLimiter: RateLimiter | undefined;
  private readonly admission: GuildAdmission;
  private readonly components: DurableComponents;

  constructor(
    readonly commands: readonly Command[],
    private readonly app: AppContext,
    /**
     * `rateLimits: false` for a front end where one person plays every member (the console): the limits protect the
     * bot from many members at once, and would only stop a scripted session after 20 commands.
     * `components`: the handlers of durable buttons and forms (commands/index.ts allComponentHandlers).
     */
    options: { rateLimits?: boolean; components?: readonly DurableComponentHandler[] } = {},
  ) {
    this.components = new DurableComponents(options.components ?? []);
    this.byName = new Map(commands.map((command) => [command.name, command]));
    const limited = options.rateLimits ?? true;
    this.memberLimiter = limited ? new RateLimiter(app.config.RATE_LIMIT_MEMBER_PER_MINUTE, MINUTE, app.clock) : undefined;
    this.guildLimiter = limited ? new RateLimiter(app.config.RATE_LIMIT_GUILD_PER_MINUTE, MINUTE, app.clock) : undefined;
    this.admission = new GuildAdmission(app.config.ALLOWED_GUILDS, app.logger);
  }

  /**
   * Whether the bot serves this guild at all. Front ends ask it for what does not pass through `handle` (button
   * presses, form submissions) and answer `notEnabledText` when it does not.
   */
  admits(guildId: string): boolean {
    return this.admission.admits(guildId);
  }

  readonly notEnabledText = new GuildNotEnabled().message;

  get(name: string): Command | undefined {
    return this.byName.get(name);
  }

  async handle(conversation: Conversation, raw: RawOptions): Promise<void> {
    const startedAt = this.app.clock.now();
    const { guildId, actor, commandName } = conversation;
    const about = { guildId, userId: actor.id, command: commandName };
    let outcome: Outcome = 'success';
    let errorId: string | undefined;
    let code: string | undefined;
    try {
      // First: a guild the operator has not enabled gets nothing run, not even a rate-limit count or an audit row.
      this.admission.require(guildId);
      const command = this.byName.get(commandName);
      if (!command) throw new Error(`no handler registered for /${commandName}`);
      const memberWait = this.memberLimiter?.take(`${guildId}:${actor.id}`) ?? 0;
      if (memberWait > 0) throw new RateLimited('member', memberWait);
      const guildWait = this.guildLimiter?.take(guildId) ?? 0;
      if (guildWait > 0) throw new RateLimited('guild', guildWait);
      if (command.adminOnly && !actor.isGuildAdmin) {
        this.app.audit.record({ guildId, userId: actor.id, action: `command.${commandName}`, outcome: 'denied' });
        throw new AdminOnly(commandName);
      }
      await command.run(conversation, raw, this.app);
    } catch (error) {
      const failure = this.failure(error, about, 'command');
      ({ outcome, errorId, code } = failure);
      await this.answer(conversation, failure.message);
    } finally {
      this.app.logger.info({ ...about, outcome, code, errorId, durationMs: this.app.clock.now() - startedAt }, 'interaction handled');
    }
  }

  /** Whether a durable handler owns this custom id; otherwise the front end's in-memory offers may. */
  ownsComponent(customId: string): boolean {
    return this.components.route(customId) !== undefined;
  }

  /**
   * A press of a durable button or a submitted durable form, with the rules every interaction follows: the guild
   * allow-list, one error path, one log line. The handler checks the record's guild, state and permissions itself.
   */
  async handleComponent(press: ComponentPress): Promise<void> {
    const startedAt = this.app.clock.now();
    const customId = `${press.id.namespace}:${press.id.action}:${press.id.recordId}`;
    const about = { guildId: press.guildId, userId: press.actor.id, component: customId, kind: press.kind };
    let outcome: Outcome = 'success';
    let errorId: string | undefined;
    let code: string | undefined;
    try {
      const routed = this.components.route(customId);
      if (!routed) throw new Error(`no durable handler for ${customId}`);
      if (press.guildId !== null) this.admission.require(press.guildId);
      await routed.handler.handle({ press, app: this.app, requireServed: (guildId) => this.admission.require(guildId) });
    } catch (error) {
      const failure = this.failure(error, about, 'press');
      ({ outcome, errorId, code } = failure);
      await this.tellPresser(press, failure.message);
    } finally {
      this.app.logger.info({ ...about, outcome, code, errorId, durationMs: this.app.clock.now() - startedAt }, 'interaction handled');
    }
  }

  /**
   * The one error path: a refusal is shown as such (its code goes on the interaction's log line), anything else as
   * an error id (logged with the error, never shown). `about` names the interaction in those log lines.
   */
  private failure(
    error: unknown,
    about: Record<string, unknown>,
    what: 'command' | 'press',
  ): { outcome: Outcome; errorId?: string; code?: string; message: Message } {
    if (isUserError(error)) {
      logOperatorNote(this.app.logger, error, about);
      return {
        outcome: error.code.startsWith('permission.') ? 'denied' : 'failed',
        code: error.code,
        message: { content: text`⛔ ${toText(error.text)}`, ephemeral: true },
      };
    }
    const errorId = randomBytes(4).toString('hex');
    // The error object may carry anything (stderr, a request body): log its class and stack, never show it.
    this.app.logger.error({ ...about, errorId, err: error }, `${what} failed unexpectedly`);
    return {
      outcome: 'error',
      errorId,
      message: {
        content: `Something went wrong on our side (error id \`${errorId}\`). Try again; if it keeps happening, give a server admin this id.`,
        ephemeral: true,
      },
    };
  }

  private async tellPresser(press: ComponentPress, message: Message): Promise<void> {
    try {
      await press.reply(message);
    } catch (error) {
      this.app.logger.warn({ err: error }, 'could not deliver an error message');
    }
  }

  async complete(request: AutocompleteRequest): Promise<Choice[]> {
    // Autocomplete can only offer choices: the refusal is the one choice offered (picking it runs nothing either).
    if (!this.admission.admits(request.guildId)) return [{ name: this.notEnabledText.slice(0, 100), value: 'not-enabled' }];
    const command = this.byName.get(request.commandName);
    if (!command?.complete) return [];
    try {
      // Discord accepts at most 25 choices, each name and value at most 100 characters.
      const choices = await command.complete(request, this.app);
      return choices.slice(0, 25).map((choice) => ({ name: choice.name.slice(0, 100), value: choice.value.slice(0, 100) }));
    } catch (error) {
      this.app.logger.warn({ err: error, command: request.commandName }, 'autocomplete failed');
      return [];
    }
  }

  /** Replies, or edits the deferred response; a failure to answer is logged, never thrown at the front end. */
  private async answer(conversation: Conversation, message: Message): Promise<void> {
    try {
      const state = conversation.responseState();
      if (state === 'none') await conversation.reply(message);
      else if (!conversation.canStillRespond()) await conversation.postToChannel({ ...message, ephemeral: false });
      else if (state === 'deferred') await conversation.edit(message);
      else await conversation.followUp(message);
    } catch (error) {
      this.app.logger.warn({ err: error }, 'could not deliver an error message');
    }
  }
}
