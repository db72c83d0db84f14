import { performance } from 'node:perf_hooks';
import type { AutocompleteChoice, Component, Embed, Modal } from './schemas.js';
import type { RecordedMessage, World } from './world.js';

export type InteractionKind = 'chat-input' | 'autocomplete' | 'button' | 'modal-submit';

/** The `data` of an interaction callback; which fields are present depends on the callback type. */
export interface CallbackData {
  content?: string | null | undefined;
  embeds?: Embed[] | null | undefined;
  components?: Component[] | null | undefined;
  flags?: number | null | undefined;
  choices?: AutocompleteChoice[] | undefined;
  title?: string | undefined;
  custom_id?: string | undefined;
  [key: string]: unknown;
}

/** The first response to an interaction: 4 message, 5 deferred, 6 deferred update, 7 update, 8 choices, 9 modal. */
export interface InteractionResponse {
  type: number;
  data: CallbackData;
}

/** Something the bot did with an interaction, in order. Messages are snapshots taken when it happened. */
export type InteractionEvent =
  | { kind: 'callback'; type: number; data: CallbackData; at: number }
  | { kind: 'edit'; messageId: string; original: boolean; message: RecordedMessage; at: number }
  | { kind: 'follow-up'; message: RecordedMessage; at: number }
  | { kind: 'delete'; messageId: string; original: boolean; at: number };

/** The server's bookkeeping for one dispatched interaction. */
export class InteractionRecord {
  readonly events: InteractionEvent[] = [];
  response: InteractionResponse | null = null;
  ackDelayMs: number | null = null;
  /** The message `@original` designates: the reply (types 4/5) or the message a component was on (types 6/7). */
  originalMessageId: string | null = null;
  /** The modal shown in response (type 9), which a later modal submit answers. */
  modal: Modal | null = null;
  tokenRevoked = false;
  deadlineTimer: NodeJS.Timeout | null = null;
  readonly dispatchedAt = performance.now();
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly id: string,
    readonly token: string,
    readonly kind: InteractionKind,
    /** Discord's interaction type: 2 command, 3 component, 4 autocomplete, 5 modal submit. */
    readonly type: number,
    /** Command name or component/modal custom id, for messages about this interaction. */
    readonly label: string,
    readonly guildId: string,
    readonly channelId: string,
    readonly userId: string,
    /** The message a component (or a modal opened from one) was on. */
    readonly sourceMessageId: string | null,
    /** Clock time the token was issued, for the 15-minute token lifetime. */
    readonly tokenIssuedAt: number,
  ) {}

  record(event: InteractionEvent): void {
    this.events.push(event);
    for (const listener of [...this.listeners]) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  describe(): string {
    return `${this.kind} interaction "${this.label}" (${this.id})`;
  }
}

/** The current state of an interaction's `@original` message. */
export interface OriginalMessage {
  id: string;
  content: string;
  embeds: Embed[];
  components: Component[];
  flags: number;
  attachments: RecordedMessage['attachments'];
  deleted: boolean;
}

const DEFAULT_WAIT_MS = 10_000;

/** What a test holds for an interaction it sent: waits on and inspects the bot's responses. */
export class InteractionHandle {
  constructor(
    private readonly interaction: InteractionRecord,
    private readonly world: World,
    private readonly onClose: Set<(error: Error) => void>,
  ) {}

  get id(): string {
    return this.interaction.id;
  }

  get token(): string {
    return this.interaction.token;
  }

  get kind(): InteractionKind {
    return this.interaction.kind;
  }

  /** Milliseconds from dispatch to the first callback; undefined until the bot acknowledged. */
  get ackDelayMs(): number | undefined {
    return this.interaction.ackDelayMs ?? undefined;
  }

  /** The first callback, if any yet. */
  get response(): InteractionResponse | undefined {
    return this.interaction.response ?? undefined;
  }

  /** Everything recorded so far, in order. */
  events(): InteractionEvent[] {
    return [...this.interaction.events];
  }

  /** Resolves with the first callback (type 4, 5, 6, 7, 8 or 9). */
  async waitForResponse(timeoutMs = DEFAULT_WAIT_MS): Promise<InteractionResponse> {
    const event = await this.waitFor((candidate) => candidate.kind === 'callback', timeoutMs);
    if (event.kind !== 'callback') throw new Error('unreachable: waited for a callback');
    return { type: event.type, data: event.data };
  }

  /** Resolves with the first recorded event (past or future) that satisfies the predicate. */
  waitFor(predicate: (event: InteractionEvent) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<InteractionEvent> {
    const found = this.interaction.events.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        unsubscribe();
        this.onClose.delete(abort);
      };
      const abort = (error: Error): void => {
        finish();
        reject(error);
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting on ${this.interaction.describe()}; ` +
              `recorded so far: ${JSON.stringify(this.interaction.events.map(summarize))}`,
          ),
        );
      }, timeoutMs);
      const unsubscribe = this.interaction.subscribe(() => {
        const match = this.interaction.events.find(predicate);
        if (match) {
          finish();
          resolve(match);
        }
      });
      this.onClose.add(abort);
    });
  }

  /** Waits until the `@original` message satisfies the predicate (e.g. its content mentions "applied"). */
  async waitForOriginal(
    predicate: (message: OriginalMessage) => boolean,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<OriginalMessage> {
    await this.waitFor(() => {
      const original = this.original();
      return original !== undefined && predicate(original);
    }, timeoutMs).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}; @original is ${JSON.stringify(this.original())}`,
      );
    });
    const original = this.original();
    if (!original) throw new Error('unreachable: the original message disappeared');
    return original;
  }

  /** The current `@original` message (after the callback and any edits), or undefined if there is none. */
  original(): OriginalMessage | undefined {
    const id = this.interaction.originalMessageId;
    const message = id ? this.world.messages.get(id) : undefined;
    if (!message) return undefined;
    return {
      id: message.id,
      content: message.content,
      embeds: message.embeds,
      components: message.components,
      flags: message.flags,
      attachments: message.attachments,
      deleted: message.deleted,
    };
  }

  /** Follow-up messages the bot posted, in their current state. */
  followUps(): RecordedMessage[] {
    return [...this.world.messages.values()].filter(
      (message) => message.interactionId === this.interaction.id && message.source === 'follow-up',
    );
  }

  /** For autocomplete: the choices the bot answered with (waits for the answer). */
  async choices(timeoutMs = DEFAULT_WAIT_MS): Promise<AutocompleteChoice[]> {
    const response = await this.waitForResponse(timeoutMs);
    if (response.type !== 8) {
      throw new Error(`${this.interaction.describe()} was answered with callback type ${response.type}, not 8`);
    }
    return response.data.choices ?? [];
  }

  /** For a modal response (type 9): the modal the bot showed (waits for it). */
  async modal(timeoutMs = DEFAULT_WAIT_MS): Promise<CallbackData> {
    const response = await this.waitForResponse(timeoutMs);
    if (response.type !== 9) {
      throw new Error(`${this.interaction.describe()} was answered with callback type ${response.type}, not a modal`);
    }
    return response.data;
  }

  /** Makes the interaction token invalid now, as if 15 minutes had passed: later webhook calls get 401 50027. */
  expireToken(): void {
    this.interaction.tokenRevoked = true;
  }
}

function summarize(event: InteractionEvent): unknown {
  switch (event.kind) {
    case 'callback':
      return { callback: event.type, data: event.data };
    case 'edit':
      return { edit: event.messageId, content: event.message.content, embeds: event.message.embeds.length };
    case 'follow-up':
      return { followUp: event.message.id, content: event.message.content };
    case 'delete':
      return { delete: event.messageId };
  }
}
