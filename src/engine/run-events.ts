/** Reading a finished run's events: the totals, what completed, the outputs, and redaction of engine text. */
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

/** Engine text can quote what it was given; secret values are blanked before anything leaves the runner. */
export function redactEvent(event: EngineEvent, redact: (text: string) => string): EngineEvent {
  switch (event.type) {
    case 'diagnostic':
      return { ...event, summary: redact(event.summary), detail: redact(event.detail) };
    case 'outputs':
      return {
        ...event,
        outputs: Object.fromEntries(
          Object.entries(event.outputs).map(([k, v]) => [k, typeof v.value === 'string' ? { ...v, value: redact(v.value) } : v]),
        ),
      };
    default:
      return 'message' in event && typeof event.message === 'string' ? { ...event, message: redact(event.message) } : event;
  }
}
