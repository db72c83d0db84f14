/** Reading a run's events as they pass: the totals, what completed, the outputs, the errors, and redaction of engine text. */
import type { Redactor } from '../shared/redaction.js';
import type { EngineEvent, OutputValue } from './json-stream.js';

type Diagnostic = Extract<EngineEvent, { type: 'diagnostic' }>;
type ChangeSummary = { add: number; change: number; remove: number };

/** At most this many completed addresses are kept for a result (and its stored summary). */
export const MAX_COMPLETED_ADDRESSES = 500;
/** At most this many error diagnostics are kept; the first is what the member reads. */
export const MAX_ERROR_DIAGNOSTICS = 20;
/** At most this many warnings are passed on with a result. */
export const MAX_WARNINGS = 20;

/**
 * What a finished command's result needs from its event stream, kept as the events pass: the last change summary
 * per operation, the last outputs, the completed addresses and the error diagnostics (both capped). Events
 * themselves are not kept: an engine printing millions of progress lines must not grow the bot's memory.
 */
export class RunEventDigest {
  readonly #summaries = new Map<string, ChangeSummary>();
  #lastSummary: ChangeSummary | undefined;
  #outputs: Record<string, OutputValue> = {};
  readonly #completed: string[] = [];
  #completedCount = 0;
  readonly #errors: Diagnostic[] = [];
  #errorCount = 0;

  add(event: EngineEvent): void {
    switch (event.type) {
      case 'change_summary': {
        const summary = { add: event.add, change: event.change, remove: event.remove };
        this.#summaries.set(event.operation, summary);
        this.#lastSummary = summary;
        return;
      }
      case 'outputs':
        this.#outputs = event.outputs;
        return;
      case 'apply_complete':
        this.#completedCount++;
        if (this.#completed.length < MAX_COMPLETED_ADDRESSES) this.#completed.push(event.address);
        return;
      case 'diagnostic':
        if (event.severity !== 'error') return;
        this.#errorCount++;
        if (this.#errors.length < MAX_ERROR_DIAGNOSTICS) this.#errors.push(event);
        return;
      default:
        return;
    }
  }

  /** The totals of the last summary for `operation` (or, failing that, of the last summary at all). */
  changeSummary(operation: string): ChangeSummary {
    const chosen = this.#summaries.get(operation) ?? this.#lastSummary;
    return { add: chosen?.add ?? 0, change: chosen?.change ?? 0, remove: chosen?.remove ?? 0 };
  }

  /** Addresses whose apply completed, in order (the first MAX_COMPLETED_ADDRESSES). */
  completed(): string[] {
    return [...this.#completed];
  }

  /** How many addresses completed in all, including those not kept. */
  get completedCount(): number {
    return this.#completedCount;
  }

  outputs(): Record<string, OutputValue> {
    return this.#outputs;
  }

  /** The first error diagnostics (at most MAX_ERROR_DIAGNOSTICS). */
  errors(): Diagnostic[] {
    return [...this.#errors];
  }

  /** How many error diagnostics the engine printed in all. */
  get errorCount(): number {
    return this.#errorCount;
  }
}

/**
 * Engine text can quote what it was given (a GCP instance id carries the project id): every string of an event,
 * whatever its field, is redacted before anything leaves the runner.
 */
export function redactEvent<E extends { type: string }>(event: E, redactor: Redactor): E {
  return { ...redactor.deep(event), type: event.type };
}
