/** Reading a finished run's events: the totals, what completed, the outputs, and redaction of engine text. */
import type { Redactor } from '../shared/redaction.js';
import type { EngineEvent, OutputValue } from './json-stream.js';

export function lastChangeSummary(events: EngineEvent[], operation: string): { add: number; change: number; remove: number } {
  const summaries = events.filter((e): e is Extract<EngineEvent, { type: 'change_summary' }> => e.type === 'change_summary');
  const chosen = summaries.filter((s) => s.operation === operation).at(-1) ?? summaries.at(-1);
  return { add: chosen?.add ?? 0, change: chosen?.change ?? 0, remove: chosen?.remove ?? 0 };
}

export function completed(events: EngineEvent[]): string[] {
  return events.filter((e) => e.type === 'apply_complete').map((e) => (e as { address: string }).address);
}

export function lastOutputs(events: EngineEvent[]): Record<string, OutputValue> {
  const last = events.filter((e): e is Extract<EngineEvent, { type: 'outputs' }> => e.type === 'outputs').at(-1);
  return last?.outputs ?? {};
}

/**
 * Engine text can quote what it was given (a GCP instance id carries the project id): every string of an event,
 * whatever its field, is redacted before anything leaves the runner.
 */
export function redactEvent<E extends { type: string }>(event: E, redactor: Redactor): E {
  return { ...redactor.deep(event), type: event.type };
}
