/**
 * The engines' streaming machine-readable UI (`plan|apply|destroy -json`): one JSON object per line, turned into
 * typed events. Formats: ../../../shared/docs/terraform-machine-readable.md. A line that is not JSON, or a known
 * type with an unexpected shape, is counted and skipped; an unknown type is counted and skipped. Nothing here throws.
 */
import { z } from 'zod';

const resourceSchema = z.object({
  addr: z.string().max(1024),
  resource_type: z.string().max(256).optional(),
  resource_name: z.string().max(256).optional(),
});

const actionSchema = z.string().max(32);

const envelope = z.object({
  type: z.string().max(64),
  '@level': z.string().max(16).optional(),
  '@message': z.string().max(16_384).optional(),
});

const versionLine = z.object({ terraform: z.string().max(64).optional(), tofu: z.string().max(64).optional(), ui: z.string().max(16) });
const plannedChangeLine = z.object({
  change: z.object({
    resource: resourceSchema,
    previous_resource: resourceSchema.optional(),
    action: actionSchema,
    reason: z.string().max(64).optional(),
  }),
});
const changeSummaryLine = z.object({
  changes: z.object({
    add: z.number().int().nonnegative(),
    change: z.number().int().nonnegative(),
    remove: z.number().int().nonnegative(),
    operation: z.string().max(16),
  }),
});
const hookLine = z.object({
  hook: z.object({
    resource: resourceSchema,
    action: actionSchema.optional(),
    id_key: z.string().max(256).optional(),
    id_value: z.string().max(1024).optional(),
    elapsed_seconds: z.number().nonnegative().optional(),
  }),
});
const diagnosticLine = z.object({
  diagnostic: z.object({
    severity: z.enum(['error', 'warning']),
    summary: z.string().max(4096),
    detail: z.string().max(16_384).optional(),
    address: z.string().max(1024).optional(),
  }),
});
const outputsLine = z.object({
  outputs: z.record(
    z.string().max(256),
    z.object({ sensitive: z.boolean().optional(), type: z.unknown().optional(), value: z.unknown().optional(), action: z.string().max(16).optional() }),
  ),
});

export interface OutputValue {
  sensitive: boolean;
  /** Absent when sensitive: the value is never passed on. */
  value?: unknown;
}

/** One typed event from an engine's output, in the order the engine printed it. */
export type EngineEvent =
  | { type: 'version'; engine: string; ui: string }
  | { type: 'planned_change'; address: string; action: string; reason?: string; previousAddress?: string; message?: string }
  | { type: 'change_summary'; operation: string; add: number; change: number; remove: number; message?: string }
  | {
      type: 'apply_start' | 'apply_progress' | 'apply_complete' | 'apply_errored' | 'refresh_start' | 'refresh_complete';
      address: string;
      action?: string;
      elapsedSeconds?: number;
      idKey?: string;
      idValue?: string;
      message?: string;
    }
  | { type: 'diagnostic'; severity: 'error' | 'warning'; summary: string; detail: string; address?: string }
  | { type: 'outputs'; outputs: Record<string, OutputValue> };

export type EngineEventType = EngineEvent['type'];

const HOOK_TYPES = new Set(['apply_start', 'apply_progress', 'apply_complete', 'apply_errored', 'refresh_start', 'refresh_complete']);

export interface ParseStats {
  /** Lines that are not a JSON object, or a known type in an unexpected shape. */
  malformed: number;
  /** Well-formed lines of a type we do not use (log, resource_drift, provision_*, test_*, anything newer). */
  ignored: number;
}

/** Turns `-json` lines into events; keeps counts of what it skipped. */
export class EngineEventParser {
  readonly stats: ParseStats = { malformed: 0, ignored: 0 };

  /** The event on this line, or undefined when the line is skipped. */
  parseLine(line: string): EngineEvent | undefined {
    const trimmed = line.trim();
    if (trimmed === '') return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(trimmed);
    } catch {
      this.stats.malformed++;
      return undefined;
    }
    const head = envelope.safeParse(raw);
    if (!head.success) {
      this.stats.malformed++;
      return undefined;
    }
    const event = toEvent(head.data.type, head.data['@message'], raw);
    if (event === null) this.stats.ignored++;
    else if (event === undefined) this.stats.malformed++;
    return event ?? undefined;
  }
}

/** null: a type we ignore; undefined: a known type whose shape is wrong. */
function toEvent(type: string, message: string | undefined, raw: unknown): EngineEvent | null | undefined {
  const withMessage = message === undefined ? {} : { message };
  if (type === 'version') {
    const p = versionLine.safeParse(raw);
    return p.success ? { type, engine: p.data.tofu ?? p.data.terraform ?? 'unknown', ui: p.data.ui } : undefined;
  }
  if (type === 'planned_change') {
    const p = plannedChangeLine.safeParse(raw);
    if (!p.success) return undefined;
    const c = p.data.change;
    return {
      type,
      address: c.resource.addr,
      action: c.action,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.previous_resource ? { previousAddress: c.previous_resource.addr } : {}),
      ...withMessage,
    };
  }
  if (type === 'change_summary') {
    const p = changeSummaryLine.safeParse(raw);
    if (!p.success) return undefined;
    const { add, change, remove, operation } = p.data.changes;
    return { type, operation, add, change, remove, ...withMessage };
  }
  if (HOOK_TYPES.has(type)) {
    const p = hookLine.safeParse(raw);
    if (!p.success) return undefined;
    const h = p.data.hook;
    return {
      type: type as 'apply_start',
      address: h.resource.addr,
      ...(h.action ? { action: h.action } : {}),
      ...(h.elapsed_seconds !== undefined ? { elapsedSeconds: h.elapsed_seconds } : {}),
      ...(h.id_key ? { idKey: h.id_key } : {}),
      ...(h.id_value ? { idValue: h.id_value } : {}),
      ...withMessage,
    };
  }
  if (type === 'diagnostic') {
    const p = diagnosticLine.safeParse(raw);
    if (!p.success) return undefined;
    const d = p.data.diagnostic;
    return { type, severity: d.severity, summary: d.summary, detail: d.detail ?? '', ...(d.address ? { address: d.address } : {}) };
  }
  if (type === 'outputs') {
    const p = outputsLine.safeParse(raw);
    return p.success ? { type, outputs: toOutputValues(p.data.outputs) } : undefined;
  }
  return null;
}

/** Output values with every sensitive value dropped. */
export function toOutputValues(outputs: Record<string, { sensitive?: boolean | undefined; value?: unknown }>): Record<string, OutputValue> {
  const result: Record<string, OutputValue> = {};
  for (const [name, output] of Object.entries(outputs)) {
    result[name] = output.sensitive ? { sensitive: true } : { sensitive: false, value: output.value };
  }
  return result;
}

/** `output -json`: name → { sensitive, type, value }. */
export const outputCommandSchema = z.record(
  z.string().max(256),
  z.object({ sensitive: z.boolean().optional(), type: z.unknown().optional(), value: z.unknown().optional() }),
);
