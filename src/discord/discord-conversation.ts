import {
  MessageFlags,
  PermissionFlagsBits,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type GuildMember,
  type APIInteractionGuildMember,
  type ModalSubmitInteraction,
  type User,
  type PermissionsBitField,
} from 'discord.js';
import type {
  Actor,
  ButtonChoice,
  Conversation,
  Message,
  ModalAnswer,
  ModalSpec,
  OfferButtonsOptions,
} from '../interaction/conversation.js';
import { toMarkdown } from './markdown.js';
import type { Clock } from '../shared/clock.js';
import type { ComponentWaiters } from './component-waiters.js';
import type { InteractionCallbacks } from './interaction-callbacks.js';
import { buildModal, modalValues } from './modals.js';
import { ephemeralFlags, renderMessage } from './render.js';

/** Interaction tokens last 15 minutes; stop using ours a little before, so a slow edit does not fail. */
const TOKEN_LIFETIME_MS = 14 * 60_000;

// Read once: each read of a discord.js export passes through three or four layers of re-export getters (the
// bundle's CommonJS interop, discord.js's and discord-api-types' `export *`), a cost paid on every interaction.
const MANAGE_GUILD = PermissionFlagsBits.ManageGuild;

type RepliableInteraction = ChatInputCommandInteraction | ModalSubmitInteraction;

export function actorOf(
  user: User,
  member: GuildMember | APIInteractionGuildMember | null,
  permissions: Readonly<PermissionsBitField> | null,
): Actor {
  const isGuildAdmin = Boolean(permissions?.has(MANAGE_GUILD, true));
  const nick = member && 'nick' in member && typeof member.nick === 'string' ? member.nick : null;
  return { id: user.id, displayName: nick ?? user.globalName ?? user.username, isBot: user.bot, isGuildAdmin };
}

export class DiscordConversation implements Conversation {
  readonly guildId: string;
  readonly channelId: string;
  readonly actor: Actor;
  private state: 'none' | 'deferred' | 'answered' = 'none';
  /** After a modal is submitted, the submission is what must be answered; everything is forwarded to it. */
  private continuation: DiscordConversation | undefined;

  constructor(
    private readonly interaction: RepliableInteraction,
    readonly commandName: string,
    private readonly waiters: ComponentWaiters,
    private readonly clock: Clock,
    private readonly callbacks: InteractionCallbacks,
  ) {
    this.guildId = interaction.guildId ?? '';
    this.channelId = interaction.channelId ?? '';
    this.actor = actorOf(interaction.user, interaction.member, interaction.memberPermissions);
  }

  responseState(): 'none' | 'deferred' | 'answered' {
    if (this.continuation) return this.continuation.responseState();
    return this.state;
  }

  async reply(message: Message): Promise<void> {
    if (this.continuation) return this.continuation.reply(message);
    const body = renderMessage(message);
    // Files go as multipart, which discord.js does; everything else through the lean callback.
    if (body.files) await this.interaction.reply({ ...body, flags: ephemeralFlags(message) });
    else await this.callbacks.reply(this.interaction, { ...toRestBody(body), flags: ephemeralFlags(message) });
    this.state = 'answered';
  }

  async defer(options: { ephemeral?: boolean } = {}): Promise<void> {
    if (this.continuation) return this.continuation.defer(options);
    await this.callbacks.defer(this.interaction, options.ephemeral ?? false);
    this.state = 'deferred';
  }

  async edit(message: Message): Promise<void> {
    if (this.continuation) return this.continuation.edit(message);
    await this.interaction.editReply(renderMessage(message));
    this.state = 'answered';
  }

  async followUp(message: Message): Promise<void> {
    if (this.continuation) return this.continuation.followUp(message);
    await this.interaction.followUp({ ...renderMessage(message), flags: ephemeralFlags(message) });
  }

  canStillRespond(): boolean {
    if (this.continuation) return this.continuation.canStillRespond();
    return this.clock.now() - this.interaction.createdTimestamp < TOKEN_LIFETIME_MS;
  }

  async postToChannel(message: Message): Promise<void> {
    await this.interaction.client.rest.post(Routes.channelMessages(this.channelId), {
      body: toRestBody(renderMessage(message)),
      files: restFiles(message),
    });
  }

  async askModal(spec: ModalSpec, timeoutMs: number): Promise<ModalAnswer | null> {
    if (this.interaction.isModalSubmit() || this.state !== 'none') throw new Error('a modal must be the first response');
    const prefix = this.waiters.newPrefix();
    const submitted = this.waitForSubmission(prefix, timeoutMs);
    await this.interaction.showModal(buildModal(`${prefix}:modal`, spec.title, spec.fields));
    this.state = 'answered';
    const submission = await submitted;
    return submission ? this.continueOn(submission, spec) : null;
  }

  async askFurtherModal(prompt: Message, openLabel: string, spec: ModalSpec, timeoutMs: number): Promise<ModalAnswer | null> {
    if (this.continuation) return this.continuation.askFurtherModal(prompt, openLabel, spec, timeoutMs);
    const prefix = this.waiters.newPrefix();
    const formPrefix = this.waiters.newPrefix();
    const shown: Message = { ...prompt, ephemeral: true, buttons: [{ id: 'open', label: openLabel, style: 'primary' }] };
    // Pressed as often as the member likes (a dismissed form can be opened again) until one is submitted.
    this.waiters.add(prefix, {
      kind: 'button',
      onPress: async (press: ButtonInteraction) => {
        if (press.user.id !== this.actor.id) {
          await press.reply({ content: '⛔ This form is for the member who ran the command.', flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
          return true;
        }
        await press.showModal(buildModal(`${formPrefix}:modal`, spec.title, spec.fields));
        return true;
      },
    });
    const submitted = this.waitForSubmission(formPrefix, timeoutMs, () => this.waiters.remove(prefix));
    let followUpId: string | undefined;
    try {
      if (this.state === 'none') {
        await this.interaction.reply({ ...renderMessage(shown, prefix), flags: MessageFlags.Ephemeral });
        this.state = 'answered';
      } else {
        followUpId = (await this.interaction.followUp({ ...renderMessage(shown, prefix), flags: MessageFlags.Ephemeral })).id;
      }
    } catch (error) {
      this.waiters.remove(prefix);
      this.waiters.remove(formPrefix);
      throw error;
    }
    const submission = await submitted;
    this.waiters.remove(prefix);
    // The button has done its work: the prompt stays, without it (best effort, the form goes on either way).
    if (this.canStillRespond()) {
      await this.interaction.editReply({ ...renderMessage({ ...prompt, buttons: [] }), ...(followUpId ? { message: followUpId } : {}) }).catch(() => undefined);
    }
    return submission ? this.continueOn(submission, spec) : null;
  }

  /** Resolves with the submission of the form `prefix` shows, or null after `timeoutMs` (then `onTimeout` runs). */
  private waitForSubmission(prefix: string, timeoutMs: number, onTimeout?: () => void): Promise<ModalSubmitInteraction | null> {
    return new Promise<ModalSubmitInteraction | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.remove(prefix);
        onTimeout?.();
        resolve(null);
      }, timeoutMs);
      timer.unref();
      this.waiters.add(prefix, {
        kind: 'modal',
        onSubmit: async (submission) => {
          clearTimeout(timer);
          resolve(submission);
        },
      });
    });
  }

  /** From now on the submission is what is answered; returns what was typed in the form's fields. */
  private continueOn(submission: ModalSubmitInteraction, spec: ModalSpec): ModalAnswer {
    const values = modalValues(submission, spec.fields.map((field) => field.id));
    this.continuation = new DiscordConversation(submission, this.commandName, this.waiters, this.clock, this.callbacks);
    return { values };
  }

  async offerButtons(message: Message, options: OfferButtonsOptions): Promise<ButtonChoice | null> {
    if (this.continuation) return this.continuation.offerButtons(message, options);
    const prefix = this.waiters.newPrefix();
    const rest = this.interaction.client.rest;
    let channelMessageId: string | undefined;
    const settledBody = (choice: ButtonChoice | null) =>
      renderMessage(options.settled?.(choice) ?? { ...message, buttons: [] });

    // The waiter is registered before the buttons are shown: a press can arrive before our send call returns.
    const choice = new Promise<ButtonChoice | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.remove(prefix);
        const body = settledBody(null);
        const edit =
          channelMessageId === undefined
            ? this.canStillRespond()
              ? this.interaction.editReply(body)
              : Promise.resolve()
            : rest.patch(Routes.channelMessage(this.channelId, channelMessageId), { body: toRestBody(body) });
        // Removing stale buttons is best effort: the offer is over either way.
        edit.catch(() => undefined).finally(() => resolve(null));
      }, options.timeoutMs);
      timer.unref();
      this.waiters.add(prefix, {
        kind: 'button',
        onPress: async (press: ButtonInteraction, buttonId: string) => {
          const by = actorOf(press.user, press.member, press.memberPermissions);
          const refusal = options.authorize(by);
          if (refusal) {
            await press.reply({ content: `⛔ ${toMarkdown(refusal)}`, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
            return true;
          }
          clearTimeout(timer);
          this.waiters.remove(prefix);
          const pressed = { buttonId, by };
          await press.update(settledBody(pressed));
          resolve(pressed);
          return true;
        },
      });
    });

    try {
      if (options.where === 'response') {
        if (this.state === 'none') {
          await this.interaction.reply({ ...renderMessage(message, prefix), flags: ephemeralFlags(message) });
        } else {
          await this.interaction.editReply(renderMessage(message, prefix));
        }
        this.state = 'answered';
      } else {
        const posted = (await rest.post(Routes.channelMessages(this.channelId), {
          body: toRestBody(renderMessage(message, prefix)),
          files: restFiles(message),
        })) as { id: string };
        channelMessageId = posted.id;
      }
    } catch (error) {
      this.waiters.remove(prefix);
      throw error;
    }
    return choice;
  }
}

/** Files for a raw REST call (@discordjs/rest sends them as multipart with the body as `payload_json`). */
function restFiles(message: Message) {
  return (message.attachments ?? []).slice(0, 10).map((file) => ({ name: file.name, data: Buffer.from(file.data) }));
}

/** REST bodies use Discord's snake_case field names. */
function toRestBody(body: ReturnType<typeof renderMessage>) {
  return {
    content: body.content,
    embeds: body.embeds,
    components: body.components,
    allowed_mentions: { parse: [] },
  };
}
