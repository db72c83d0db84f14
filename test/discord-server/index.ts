/** A local Discord-compatible server for end-to-end tests of the bot with an unmodified discord.js client. */
export { DEFAULT_HEARTBEAT_INTERVAL_MS, FakeDiscordServer, ImpossibleUserAction, buttonsOf } from './server.js';
export type {
  AutocompleteSpec,
  ButtonSpec,
  ChannelMessagesOptions,
  ChatInputSpec,
  FakeDiscordServerOptions,
  InteractionTarget,
  ModalSubmitSpec,
} from './server.js';
export { InteractionHandle } from './interaction.js';
export type { CallbackData, InteractionEvent, InteractionKind, InteractionResponse, OriginalMessage } from './interaction.js';
export type { CommandOptionInput } from './interaction-payloads.js';
export type { DeadlineViolation, LoggedRequest, RefusedDm } from './core.js';
export type { ReceivedHeartbeat } from './gateway.js';
export type { AutocompleteChoice, Component, Embed, RegisteredCommand } from './schemas.js';
export type { GuildSpec, MemberSpec, RecordedAttachment, RecordedMessage } from './world.js';
export { Permission } from './world.js';
