import type { Clock } from '../../src/shared/clock.js';
import type { InteractionKind, InteractionRecord } from './interaction.js';
import type { World } from './world.js';

export interface ServerSettings {
  applicationId: string;
  /** The token the bot must present (REST `Authorization: Bot ...` and Identify); undefined accepts any. */
  botToken: string | undefined;
  /** Discord's initial-response deadline; later acknowledgements are recorded as violations. */
  ackDeadlineMs: number;
  /** Reject acknowledgements after the deadline with 404 10062 Unknown interaction, as Discord does. */
  rejectLateAcknowledgements: boolean;
  /** How long an interaction token serves edits and follow-ups (Discord: 15 minutes), measured on `clock`. */
  tokenLifetimeMs: number;
  clock: Clock;
  shardCount: number;
}

/** An interaction acknowledged after the deadline (`ackDelayMs`) or not at all (`ackDelayMs` null). */
export interface DeadlineViolation {
  interactionId: string;
  kind: InteractionKind;
  /** Command name or custom id. */
  label: string;
  ackDelayMs: number | null;
}

/** One REST request the bot made, and how it was answered. */
export interface LoggedRequest {
  method: string;
  /** The route after `/api/v10`, e.g. `/channels/123/messages`. */
  path: string;
  query: Record<string, string>;
  /** The JSON body (or multipart `payload_json`). */
  body: unknown;
  files: { filename: string; size: number }[];
  status: number;
  /** Discord's JSON error code when the request failed. */
  errorCode: number | null;
  at: number;
}

/** A DM the bot tried to send and Discord refused (50007). */
export interface RefusedDm {
  userId: string;
  body: unknown;
}

/** State shared by the REST routes, the gateway and the test-facing API. */
export interface ServerCore {
  settings: ServerSettings;
  world: World;
  interactionsById: Map<string, InteractionRecord>;
  interactionsByToken: Map<string, InteractionRecord>;
  violations: DeadlineViolation[];
  requests: LoggedRequest[];
  unhandled: LoggedRequest[];
  refusedDms: RefusedDm[];
  /** Every string the bot sent in a request body, and the text of every file it attached. */
  sentText: string[];
  gatewayUrl(): string;
}
