import { ActionRowBuilder, ModalBuilder, TextInputBuilder, TextInputStyle, type ModalSubmitInteraction } from 'discord.js';
import type { ModalField } from '../interaction/conversation.js';

/** A Discord modal (at most 5 inputs; titles and labels clipped to Discord's 45 characters), optionally pre-filled. */
export function buildModal(customId: string, title: string, fields: ReadonlyArray<ModalField & { value?: string }>): ModalBuilder {
  const modal = new ModalBuilder().setCustomId(customId).setTitle(title.slice(0, 45));
  for (const field of fields.slice(0, 5)) {
    const input = new TextInputBuilder()
      .setCustomId(field.id)
      .setLabel(field.label.slice(0, 45))
      .setStyle(field.multiline ? TextInputStyle.Paragraph : TextInputStyle.Short)
      .setRequired(field.required ?? true);
    if (field.placeholder) input.setPlaceholder(field.placeholder.slice(0, 100));
    if (field.maxLength) input.setMaxLength(field.maxLength);
    if (field.value) input.setValue(field.maxLength ? field.value.slice(0, field.maxLength) : field.value);
    modal.addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(input));
  }
  return modal;
}

/** What was typed into a submitted modal, for the fields asked (others are ignored: the client is never trusted). */
export function modalValues(submission: ModalSubmitInteraction, fieldIds: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const id of fieldIds) {
    const value = submission.fields.fields.get(id);
    if (value && 'value' in value && typeof value.value === 'string') values[id] = value.value;
  }
  return values;
}

/** Every text input of a submitted modal, by custom id (a durable form's fields are known only to its handler). */
export function allModalValues(submission: ModalSubmitInteraction): Record<string, string> {
  return modalValues(submission, [...submission.fields.fields.keys()]);
}
