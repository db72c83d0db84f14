import {
  AttachmentBuilder,
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIEmbed,
} from 'discord.js';
import type { ButtonSpec, ButtonStyle as OurButtonStyle, Message } from '../interaction/conversation.js';
import type { DurableButton, Notice } from '../notify/notifier.js';
import { toMarkdown } from './markdown.js';

// Read once, like BUTTON_STYLES: each read of a discord.js export passes through three or four layers of re-export
// getters (the bundle's CommonJS interop, discord.js's and discord-api-types' `export *`), paid on every interaction.
const EPHEMERAL = MessageFlags.Ephemeral;
const { ActionRow, Button } = ComponentType;

const TONE_COLOURS: Record<NonNullable<Notice['tone']>, number> = {
  info: 0x5865f2,
  success: 0x57f287,
  warning: 0xfee75c,
  danger: 0xed4245,
};

const BUTTON_STYLES: Record<OurButtonStyle, APIButtonComponentWithCustomId['style']> = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
};

/*
 * Embeds and buttons are written as Discord's JSON directly rather than through discord.js's builders: the builders
 * validate every value at run time (and their validator allocates an error, stack trace included, for each
 * alternative it rules out), which was a tenth of an interaction's CPU. The limits they would check are kept here.
 */

/** Discord's limits: content 2000, embed title 256, description 4096, field name 256, value 1024, 25 fields. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function renderNotice(notice: Notice): APIEmbed {
  const embed: APIEmbed = { title: clip(toMarkdown(notice.title), 256), color: TONE_COLOURS[notice.tone ?? 'info'] };
  const description = notice.description === undefined ? '' : toMarkdown(notice.description);
  if (description) embed.description = clip(description, 4096);
  if (notice.fields?.length) {
    embed.fields = notice.fields.slice(0, 25).map((field) => {
      const value = toMarkdown(field.value);
      return { name: clip(toMarkdown(field.name) || '\u200b', 256), value: clip(value || '\u200b', 1024), inline: value.length <= 40 };
    });
  }
  return embed;
}

/** Buttons get `${prefix}:${id}` custom ids so the bot can route a press back to the handler waiting for it. */
type ButtonRow = APIActionRowComponent<APIButtonComponentWithCustomId>;

export function renderButtons(buttons: readonly ButtonSpec[], prefix: string): ButtonRow[] {
  return buttonRows(buttons.map((button) => ({ customId: `${prefix}:${button.id}`, label: button.label, style: button.style })));
}

/** Durable buttons keep the custom id they were given: it names the record a press acts on. */
export function renderDurableButtons(buttons: readonly DurableButton[]): ButtonRow[] {
  return buttonRows(buttons);
}

function buttonRows(buttons: ReadonlyArray<{ customId: string; label: string; style?: OurButtonStyle | undefined }>): ButtonRow[] {
  const rows: ButtonRow[] = [];
  // At most 5 rows of 5 buttons.
  for (let i = 0; i < buttons.length && rows.length < 5; i += 5) {
    rows.push({
      type: ActionRow,
      components: buttons.slice(i, i + 5).map((button) => ({
        type: Button,
        custom_id: button.customId,
        label: clip(button.label, 80),
        style: BUTTON_STYLES[button.style ?? 'secondary'],
      })),
    });
  }
  return rows;
}

/** Discord takes at most 10 files a message. */
const MAX_ATTACHMENTS = 10;

/** Files as discord.js uploads them (multipart `files[n]`), with alt text. */
export function renderAttachments(message: Message): AttachmentBuilder[] {
  return (message.attachments ?? []).slice(0, MAX_ATTACHMENTS).map((file) => {
    const attachment = new AttachmentBuilder(Buffer.from(file.data), { name: file.name });
    if (file.description !== undefined) attachment.setDescription(clip(file.description, 1024));
    return attachment;
  });
}

function itself<T>(this: T): T {
  return this;
}

/**
 * Marks JSON we wrote in Discord's own shape as final: discord.js sends what `toJSON` returns as it is, where a
 * plain object goes through its `jsonTransformer` first (every key of every embed, field and button looked up
 * again: 5–10% of a reply with an embed). Not enumerable, so the value still compares and serialises as before.
 */
function alreadyDiscordJson<T extends object>(json: T): T {
  return Object.defineProperty(json, 'toJSON', { value: itself, enumerable: false });
}

/** The body of a message, reply or edit. Mentions never ping anyone: the bot only shows them. */
export function renderMessage(message: Message, buttonPrefix?: string) {
  const components = message.buttons?.length && buttonPrefix ? renderButtons(message.buttons, buttonPrefix) : renderDurableButtons(durableButtonsOf(message));
  return {
    content: message.content === undefined ? '' : clip(toMarkdown(message.content), 2000),
    embeds: (message.notices ?? []).slice(0, 10).map((notice) => alreadyDiscordJson(renderNotice(notice))),
    components: components.map(alreadyDiscordJson),
    allowedMentions: { parse: [] as [] },
    // Only when there are files: an edit without `files` keeps what the message already shows.
    ...(message.attachments?.length ? { files: renderAttachments(message) } : {}),
  };
}

/** The durable buttons a message's notices carry (a request card's Approve and Deny). */
function durableButtonsOf(message: Message): DurableButton[] {
  return (message.notices ?? []).flatMap((notice) => notice.buttons ?? []);
}

export function ephemeralFlags(message: Message): MessageFlags.Ephemeral | undefined {
  return message.ephemeral ? EPHEMERAL : undefined;
}
