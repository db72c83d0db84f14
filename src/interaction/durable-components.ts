/**
 * Buttons and forms whose decision is durable (a JIT request's Approve, a grant's Extend) must work whenever they
 * are pressed, after a restart too. Their custom id names the record they act on, `namespace:action:recordId`
 * (`jitreq:approve:42`), and a handler registered for the namespace reads that record from the database at the
 * moment of the press, checking guild, state and permissions there. Nothing about them is kept in memory.
 *
 * In-memory offers (Conversation.offerButtons) keep their random prefixes; a custom id whose namespace no handler
 * owns is left to them.
 */
import type { AppContext } from '../app/context.js';
import type { Actor, Message, ModalField } from './conversation.js';

export interface DurableId {
  namespace: string;
  action: string;
  recordId: number;
}

const NAMESPACE = /^[a-z][a-z0-9-]{1,15}$/;
const ACTION = /^[a-z][a-z0-9-]{0,31}$/;
const DURABLE_ID = /^([a-z][a-z0-9-]{1,15}):([a-z][a-z0-9-]{0,31}):([1-9]\d{0,14})$/;

/** The custom id of a durable button or form. */
export function durableId(namespace: string, action: string, recordId: number): string {
  if (!NAMESPACE.test(namespace) || !ACTION.test(action) || !Number.isSafeInteger(recordId) || recordId < 1) {
    throw new TypeError(`not a durable component id: ${namespace}:${action}:${recordId}`);
  }
  return `${namespace}:${action}:${recordId}`;
}

/** The parts of a durable custom id, or undefined for anything else (which a press may send us: never trusted). */
export function parseDurableId(customId: string): DurableId | undefined {
  const match = DURABLE_ID.exec(customId);
  if (!match) return undefined;
  return { namespace: match[1]!, action: match[2]!, recordId: Number(match[3]) };
}

/** A form shown in answer to a durable button; its submission comes back as a press of `customId`. */
export interface DurableForm {
  customId: string;
  title: string;
  fields: Array<ModalField & { value?: string }>;
}

/** A press of a durable button, or the submission of a durable form, as every front end presents it. */
export interface ComponentPress {
  /** The guild it happened in; null in a direct message, where only the record says which guild it is about. */
  readonly guildId: string | null;
  readonly channelId: string;
  /** Who pressed, with Manage Server as of this press (false in a DM, where Discord sends no member). */
  readonly actor: Actor;
  readonly id: DurableId;
  readonly kind: 'button' | 'form';
  /** A submitted form's values by field id; empty for a button. */
  readonly values: Readonly<Record<string, string>>;
  /** Answers the presser only. */
  reply(message: Message): Promise<void>;
  /** Replaces the message the button is on; the buttons its notices carry are shown, none otherwise. */
  update(message: Message): Promise<void>;
  /** Shows a form; only as the first answer to a button. */
  showForm(form: DurableForm): Promise<void>;
}

export interface ComponentInput {
  press: ComponentPress;
  app: AppContext;
  /** Refuses a guild the bot does not serve (ALLOWED_GUILDS), for presses in a DM once the record names its guild. */
  requireServed(guildId: string): void;
}

export interface DurableComponentHandler {
  namespace: string;
  handle(input: ComponentInput): Promise<void>;
}

/** The registry of durable handlers, one per namespace. */
export class DurableComponents {
  readonly #byNamespace = new Map<string, DurableComponentHandler>();

  constructor(handlers: readonly DurableComponentHandler[]) {
    for (const handler of handlers) {
      if (!NAMESPACE.test(handler.namespace)) throw new TypeError(`bad durable component namespace "${handler.namespace}"`);
      if (this.#byNamespace.has(handler.namespace)) throw new TypeError(`two durable handlers for "${handler.namespace}"`);
      this.#byNamespace.set(handler.namespace, handler);
    }
  }

  /** The handler and parsed id for a custom id, or undefined when no durable handler owns it. */
  route(customId: string): { handler: DurableComponentHandler; id: DurableId } | undefined {
    const id = parseDurableId(customId);
    const handler = id && this.#byNamespace.get(id.namespace);
    return handler && id ? { handler, id } : undefined;
  }
}
