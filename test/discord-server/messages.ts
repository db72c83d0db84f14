import type { UploadedFile } from './body.js';
import { discordErrors } from './errors.js';
import type { MessageBody } from './schemas.js';
import { messageBodySchema } from './schemas.js';
import { isEmptyMessage, messageProblems, zodProblems } from './validation.js';
import type { MessageSource, RecordedAttachment, RecordedMessage, World } from './world.js';
import { MessageFlag } from './world.js';

/** Validates a message body at the boundary; Discord's 50035 on anything malformed or over a limit. */
export function parseMessageBody(json: unknown): MessageBody {
  const parsed = messageBodySchema.safeParse(json ?? {});
  if (!parsed.success) throw discordErrors.invalidFormBody(zodProblems(parsed.error));
  const problems = messageProblems(parsed.data);
  if (problems.length > 0) throw discordErrors.invalidFormBody(problems);
  return parsed.data;
}

export interface NewMessage {
  channelId: string;
  guildId: string | null;
  body: MessageBody;
  files: UploadedFile[];
  source: MessageSource;
  interactionId?: string | null;
  interactionUserId?: string | null;
  interactionType?: number | null;
  type?: number;
  /** Extra flags the server sets (Loading for a deferred reply). */
  extraFlags?: number;
  /** A deferred reply starts empty; every other message must have something in it. */
  allowEmpty?: boolean;
}

export function createMessage(world: World, spec: NewMessage): RecordedMessage {
  const attachments = newAttachments(world, spec.body, spec.files);
  const message: RecordedMessage = {
    id: world.ids.next(),
    channelId: spec.channelId,
    guildId: spec.guildId,
    content: spec.body.content ?? '',
    embeds: spec.body.embeds ?? [],
    components: spec.body.components ?? [],
    attachments,
    flags: (spec.body.flags ?? 0) | (spec.extraFlags ?? 0),
    source: spec.source,
    interactionId: spec.interactionId ?? null,
    interactionUserId: spec.interactionUserId ?? null,
    interactionType: spec.interactionType ?? null,
    type: spec.type ?? 0,
    createdAt: new Date().toISOString(),
    editedAt: null,
    edits: 0,
    deleted: false,
  };
  if (!spec.allowEmpty && isEmptyMessage(message)) throw discordErrors.emptyMessage();
  world.messages.set(message.id, message);
  return message;
}

/**
 * Applies an edit as Discord does: only the fields present change; `attachments` lists the ones to keep; new files are
 * added; the ephemeral flag cannot change and the loading state ends.
 */
export function editMessage(world: World, message: RecordedMessage, body: MessageBody, files: UploadedFile[]): RecordedMessage {
  const kept =
    body.attachments === undefined || body.attachments === null
      ? message.attachments
      : message.attachments.filter((attachment) =>
          body.attachments?.some((entry) => String(entry.id) === attachment.id),
        );
  const edited: RecordedMessage = {
    ...message,
    content: body.content === undefined ? message.content : (body.content ?? ''),
    embeds: body.embeds === undefined ? message.embeds : (body.embeds ?? []),
    components: body.components === undefined ? message.components : (body.components ?? []),
    attachments: [...kept, ...newAttachments(world, body, files)],
    flags:
      ((body.flags ?? message.flags) & ~(MessageFlag.Ephemeral | MessageFlag.Loading)) |
      (message.flags & MessageFlag.Ephemeral),
    editedAt: new Date().toISOString(),
    edits: message.edits + 1,
  };
  if (isEmptyMessage(edited)) throw discordErrors.emptyMessage();
  world.messages.set(edited.id, edited);
  return edited;
}

/** Files uploaded with the request, named by the `attachments` entry that refers to them by index. */
function newAttachments(world: World, body: MessageBody, files: UploadedFile[]): RecordedAttachment[] {
  return files.map((file, index) => {
    const entry = body.attachments?.find((candidate) => String(candidate.id) === String(index));
    const filename = typeof entry?.filename === 'string' ? entry.filename : file.filename;
    return { id: world.ids.next(), filename, size: file.size, contentType: file.contentType, text: file.text, bytes: file.bytes };
  });
}

/** A snapshot for the event history: later edits must not change what an earlier event recorded. */
export function snapshot(message: RecordedMessage): RecordedMessage {
  return structuredClone(message);
}
