import { performance } from 'node:perf_hooks';
import type { ApiObject } from './api-objects.js';
import { apiMessage } from './api-objects.js';
import type { RequestBody } from './body.js';
import type { ServerCore } from './core.js';
import { discordErrors } from './errors.js';
import type { CallbackData, InteractionRecord } from './interaction.js';
import { createMessage, editMessage, parseMessageBody, snapshot } from './messages.js';
import { autocompleteDataSchema, callbackEnvelopeSchema, deferredDataSchema, modalSchema } from './schemas.js';
import { choiceProblems, modalProblems, zodProblems } from './validation.js';
import type { RecordedMessage } from './world.js';
import { MessageFlag } from './world.js';

const Callback = {
  Message: 4,
  DeferredMessage: 5,
  DeferredUpdate: 6,
  UpdateMessage: 7,
  Autocomplete: 8,
  Modal: 9,
} as const;

const CHAT_INPUT_COMMAND_MESSAGE = 20;

export interface RouteResult {
  status: number;
  body?: unknown;
}

function allowedCallbacks(interaction: InteractionRecord): number[] {
  switch (interaction.kind) {
    case 'chat-input':
      return [Callback.Message, Callback.DeferredMessage, Callback.Modal];
    case 'autocomplete':
      return [Callback.Autocomplete];
    case 'button':
      return [Callback.Message, Callback.DeferredMessage, Callback.DeferredUpdate, Callback.UpdateMessage, Callback.Modal];
    case 'modal-submit':
      // A modal cannot answer a modal; updating a message needs the message the modal was opened from.
      return interaction.sourceMessageId
        ? [Callback.Message, Callback.DeferredMessage, Callback.DeferredUpdate, Callback.UpdateMessage]
        : [Callback.Message, Callback.DeferredMessage];
  }
}

/** `POST /interactions/{id}/{token}/callback`: the one initial response, checked against the 3-second deadline. */
export function handleCallback(
  core: ServerCore,
  interactionId: string,
  token: string,
  withResponse: boolean,
  body: RequestBody,
): RouteResult {
  const interaction = core.interactionsById.get(interactionId);
  if (!interaction || interaction.token !== token || tokenExpired(core, interaction)) {
    throw discordErrors.unknownInteraction();
  }
  if (interaction.response) throw discordErrors.alreadyAcknowledged();
  const delay = performance.now() - interaction.dispatchedAt;
  const late = delay > core.settings.ackDeadlineMs;
  if (late) recordLateAck(core, interaction, delay);
  if (late && core.settings.rejectLateAcknowledgements) {
    // Discord invalidates the token once the deadline passes: no response, no edits, no follow-ups.
    interaction.tokenRevoked = true;
    throw discordErrors.unknownInteraction();
  }

  const envelope = callbackEnvelopeSchema.safeParse(body.json);
  if (!envelope.success) throw discordErrors.invalidFormBody(zodProblems(envelope.error));
  const { type } = envelope.data;
  if (!allowedCallbacks(interaction).includes(type)) {
    throw discordErrors.invalidFormBody([
      { path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: `Callback type ${type} cannot answer this interaction.` },
    ]);
  }
  const rawData = envelope.data.data ?? {};
  let data: CallbackData = {};
  let message: RecordedMessage | undefined;
  const { world } = core;

  switch (type) {
    case Callback.Message: {
      const messageBody = parseMessageBody(rawData);
      message = createMessage(world, {
        channelId: interaction.channelId,
        guildId: interaction.guildId,
        body: messageBody,
        files: body.files,
        source: 'interaction-response',
        interactionId: interaction.id,
        interactionUserId: interaction.userId,
        interactionType: interaction.type,
        type: interaction.kind === 'chat-input' ? CHAT_INPUT_COMMAND_MESSAGE : 0,
      });
      interaction.originalMessageId = message.id;
      data = messageBody;
      break;
    }
    case Callback.DeferredMessage: {
      const deferred = deferredDataSchema.safeParse(rawData);
      if (!deferred.success) throw discordErrors.invalidFormBody(zodProblems(deferred.error));
      // A deferred response carries only the ephemeral flag; the message shows "thinking" until edited.
      const ephemeral = (deferred.data.flags ?? 0) & MessageFlag.Ephemeral;
      message = createMessage(world, {
        channelId: interaction.channelId,
        guildId: interaction.guildId,
        body: { flags: ephemeral },
        files: [],
        source: 'interaction-response',
        interactionId: interaction.id,
        interactionUserId: interaction.userId,
        interactionType: interaction.type,
        type: interaction.kind === 'chat-input' ? CHAT_INPUT_COMMAND_MESSAGE : 0,
        extraFlags: MessageFlag.Loading,
        allowEmpty: true,
      });
      interaction.originalMessageId = message.id;
      data = deferred.data;
      break;
    }
    case Callback.DeferredUpdate:
      interaction.originalMessageId = interaction.sourceMessageId;
      break;
    case Callback.UpdateMessage: {
      const messageBody = parseMessageBody(rawData);
      const source = interaction.sourceMessageId ? world.messages.get(interaction.sourceMessageId) : undefined;
      if (!source || source.deleted) throw discordErrors.unknownMessage();
      message = editMessage(world, source, messageBody, body.files);
      interaction.originalMessageId = source.id;
      data = messageBody;
      break;
    }
    case Callback.Autocomplete: {
      const parsed = autocompleteDataSchema.safeParse(rawData);
      if (!parsed.success) throw discordErrors.invalidFormBody(zodProblems(parsed.error));
      const problems = choiceProblems(parsed.data.choices);
      if (problems.length > 0) throw discordErrors.invalidFormBody(problems);
      data = parsed.data;
      break;
    }
    case Callback.Modal: {
      const parsed = modalSchema.safeParse(rawData);
      if (!parsed.success) throw discordErrors.invalidFormBody(zodProblems(parsed.error));
      const problems = modalProblems(parsed.data);
      if (problems.length > 0) throw discordErrors.invalidFormBody(problems);
      interaction.modal = parsed.data;
      data = parsed.data;
      break;
    }
  }

  interaction.response = { type, data };
  interaction.ackDelayMs = delay;
  if (interaction.deadlineTimer) clearTimeout(interaction.deadlineTimer);
  interaction.record({ kind: 'callback', type, data, at: Date.now() });
  if (type === Callback.UpdateMessage && message) {
    interaction.record({ kind: 'edit', messageId: message.id, original: true, message: snapshot(message), at: Date.now() });
  }
  if (!withResponse) return { status: 204 };
  return {
    status: 200,
    body: {
      interaction: {
        id: interaction.id,
        type: interaction.type,
        ...(message
          ? {
              response_message_id: message.id,
              response_message_loading: (message.flags & MessageFlag.Loading) !== 0,
              response_message_ephemeral: (message.flags & MessageFlag.Ephemeral) !== 0,
            }
          : {}),
      },
      // Discord includes the message only for a new message (4) or an updated one (7).
      resource: {
        type,
        ...(message && (type === Callback.Message || type === Callback.UpdateMessage)
          ? { message: apiMessage(world, message) }
          : {}),
      },
    },
  };
}

function recordLateAck(core: ServerCore, interaction: InteractionRecord, delay: number): void {
  const existing = core.violations.find((violation) => violation.interactionId === interaction.id);
  if (existing) {
    existing.ackDelayMs = delay;
  } else {
    core.violations.push({ interactionId: interaction.id, kind: interaction.kind, label: interaction.label, ackDelayMs: delay });
  }
}

function tokenExpired(core: ServerCore, interaction: InteractionRecord): boolean {
  return (
    interaction.tokenRevoked ||
    core.settings.clock.now() - interaction.tokenIssuedAt >= core.settings.tokenLifetimeMs
  );
}

/** The interaction behind a webhook route, refusing what Discord refuses. */
function interactionForWebhook(core: ServerCore, applicationId: string, token: string): InteractionRecord {
  if (applicationId !== core.settings.applicationId) throw discordErrors.unknownWebhook();
  const interaction = core.interactionsByToken.get(token);
  if (!interaction) throw discordErrors.unknownWebhook();
  if (tokenExpired(core, interaction)) throw discordErrors.invalidWebhookToken();
  // Until the initial response exists, the interaction webhook does not either.
  if (!interaction.response) throw discordErrors.unknownWebhook();
  return interaction;
}

/** The message a webhook route designates: `@original`, or one of this interaction's own messages. */
function webhookMessage(core: ServerCore, interaction: InteractionRecord, messageId: string): RecordedMessage {
  const id = messageId === '@original' ? interaction.originalMessageId : messageId;
  const message = id ? core.world.messages.get(id) : undefined;
  const belongs =
    message !== undefined &&
    (message.id === interaction.originalMessageId || message.interactionId === interaction.id);
  if (!message || !belongs || message.deleted) throw discordErrors.unknownMessage();
  return message;
}

/**
 * `POST /webhooks/{app}/{token}`: a follow-up. Right after a deferral (type 5) Discord treats it as an edit of the
 * "thinking" message, keeping that message's ephemeral state (documented, deprecated, still live).
 */
export function handleFollowUp(core: ServerCore, applicationId: string, token: string, body: RequestBody): RouteResult {
  const interaction = interactionForWebhook(core, applicationId, token);
  const responseType = interaction.response?.type;
  if (responseType === Callback.Autocomplete || responseType === Callback.Modal) throw discordErrors.unknownWebhook();
  const messageBody = parseMessageBody(body.json);
  const original = interaction.originalMessageId ? core.world.messages.get(interaction.originalMessageId) : undefined;
  let message: RecordedMessage;
  if (responseType === Callback.DeferredMessage && original && (original.flags & MessageFlag.Loading) !== 0) {
    message = editMessage(core.world, original, messageBody, body.files);
  } else {
    message = createMessage(core.world, {
      channelId: interaction.channelId,
      guildId: interaction.guildId,
      body: messageBody,
      files: body.files,
      source: 'follow-up',
      interactionId: interaction.id,
      interactionUserId: interaction.userId,
      interactionType: interaction.type,
    });
  }
  interaction.record({ kind: 'follow-up', message: snapshot(message), at: Date.now() });
  return { status: 200, body: apiMessage(core.world, message) };
}

export function handleWebhookMessage(
  core: ServerCore,
  method: string,
  applicationId: string,
  token: string,
  messageId: string,
  body: RequestBody,
): RouteResult {
  const interaction = interactionForWebhook(core, applicationId, token);
  const message = webhookMessage(core, interaction, messageId);
  const original = message.id === interaction.originalMessageId;
  if (method === 'GET') return { status: 200, body: apiMessage(core.world, message) };
  if (method === 'DELETE') {
    core.world.messages.set(message.id, { ...message, deleted: true });
    interaction.record({ kind: 'delete', messageId: message.id, original, at: Date.now() });
    return { status: 204 };
  }
  const edited = editMessage(core.world, message, parseMessageBody(body.json), body.files);
  interaction.record({ kind: 'edit', messageId: edited.id, original, message: snapshot(edited), at: Date.now() });
  return { status: 200, body: apiMessage(core.world, edited) satisfies ApiObject };
}
