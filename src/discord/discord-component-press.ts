import { MessageFlags, type ButtonInteraction, type ModalSubmitInteraction } from 'discord.js';
import type { Actor, Message } from '../interaction/conversation.js';
import type { ComponentPress, DurableForm, DurableId } from '../interaction/durable-components.js';
import { actorOf } from './discord-conversation.js';
import { allModalValues, buildModal } from './modals.js';
import { renderMessage } from './render.js';

/** A durable button press or form submission, from discord.js (see src/interaction/durable-components.ts). */
export class DiscordComponentPress implements ComponentPress {
  readonly guildId: string | null;
  readonly channelId: string;
  readonly actor: Actor;
  readonly kind: 'button' | 'form';
  readonly values: Readonly<Record<string, string>>;
  private responded = false;

  constructor(
    private readonly interaction: ButtonInteraction | ModalSubmitInteraction,
    readonly id: DurableId,
  ) {
    this.guildId = interaction.guildId ?? null;
    this.channelId = interaction.channelId ?? '';
    this.actor = actorOf(interaction.user, interaction.member, interaction.memberPermissions);
    this.kind = interaction.isButton() ? 'button' : 'form';
    this.values = interaction.isModalSubmit() ? allModalValues(interaction) : {};
  }

  async reply(message: Message): Promise<void> {
    const body = { ...renderMessage(message), flags: MessageFlags.Ephemeral as const };
    if (this.responded) await this.interaction.followUp(body);
    else await this.interaction.reply(body);
    this.responded = true;
  }

  async update(message: Message): Promise<void> {
    const body = renderMessage(message);
    if (this.responded) {
      await this.interaction.editReply(body);
      return;
    }
    // A form opened from a button updates the message that button is on, as the button itself would.
    if (this.interaction.isButton()) await this.interaction.update(body);
    else if (this.interaction.isFromMessage()) await this.interaction.update(body);
    else await this.interaction.reply(body);
    this.responded = true;
  }

  async showForm(form: DurableForm): Promise<void> {
    if (!this.interaction.isButton() || this.responded) throw new Error('a form can only answer a button, first');
    await this.interaction.showModal(buildModal(form.customId, form.title, form.fields));
    this.responded = true;
  }
}
