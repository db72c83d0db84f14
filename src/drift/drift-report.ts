/**
 * What a refresh-only plan found changed outside the engine, read from `show -json <plan file>`'s `resource_drift`
 * (developer.hashicorp.com/terraform/internals/json-format): each drifted resource, and which attributes differ
 * between the state (`before`) and the cloud (`after`). A value marked in `before_sensitive` or `after_sensitive`
 * (at its path or any parent) is never kept: the report says only that it changed. Everything here may be shown.
 */
import { z } from 'zod';
import { PlanJsonInvalid } from '../engine/plan-summary.js';

/** The most resources and attributes per resource a report keeps: a summary, not the plan. */
export const MAX_DRIFTED_RESOURCES = 20;
export const MAX_ATTRIBUTES_PER_RESOURCE = 12;
/** How deep attribute paths are followed (`tags.env` is two); deeper differences are reported at this depth. */
const MAX_PATH_DEPTH = 4;
/** Longest value shown; longer ones are cut. */
const MAX_VALUE_CHARS = 80;

export type DriftAction = 'update' | 'delete';

/** An attribute whose value differs: its path and both values as text, or `sensitive` with no values at all. */
export type DriftedAttribute = { path: string; sensitive: false; before: string; after: string } | { path: string; sensitive: true };

export interface DriftedResource {
  address: string;
  /** `delete`: the resource is gone from the cloud. */
  action: DriftAction;
  attributes: DriftedAttribute[];
  /** Attributes left out beyond MAX_ATTRIBUTES_PER_RESOURCE. */
  moreAttributes: number;
}

export interface DriftReport {
  resources: DriftedResource[];
  /** Resources left out beyond MAX_DRIFTED_RESOURCES. */
  moreResources: number;
}

const changeSchema = z.object({
  actions: z.array(z.string()),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  before_sensitive: z.unknown().optional(),
  after_sensitive: z.unknown().optional(),
});

const showSchema = z.object({
  resource_drift: z
    .array(z.object({ address: z.string().min(1).max(1024), mode: z.string().optional(), change: changeSchema }))
    .max(20_000)
    .optional(),
});

/** The report of a `show -json` document. @throws PlanJsonInvalid when it is not one. */
export function readDriftReport(json: unknown): DriftReport {
  const parsed = showSchema.safeParse(json);
  if (!parsed.success) throw new PlanJsonInvalid(parsed.error.issues[0]?.message ?? 'not a plan');
  const drifted: DriftedResource[] = [];
  for (const entry of parsed.data.resource_drift ?? []) {
    if (entry.mode !== undefined && entry.mode !== 'managed') continue;
    const { change } = entry;
    if (change.actions.includes('no-op') || change.actions.length === 0) continue;
    const action: DriftAction = change.actions.includes('delete') && (change.after === null || change.after === undefined) ? 'delete' : 'update';
    const attributes: DriftedAttribute[] = [];
    if (action === 'update') {
      const sensitive = (path: readonly string[]) => strongest(markAt(change.before_sensitive, path), markAt(change.after_sensitive, path));
      collectDifferences(change.before, change.after, [], sensitive, attributes);
    }
    drifted.push({ address: entry.address, action, attributes: attributes.slice(0, MAX_ATTRIBUTES_PER_RESOURCE), moreAttributes: Math.max(0, attributes.length - MAX_ATTRIBUTES_PER_RESOURCE) });
  }
  return { resources: drifted.slice(0, MAX_DRIFTED_RESOURCES), moreResources: Math.max(0, drifted.length - MAX_DRIFTED_RESOURCES) };
}

/**
 * How `marks` (a `*_sensitive` value: true, or objects and lists of marks) covers `path`: `marked` when the path or
 * a parent is marked, `below` when only something inside it is (one field of a block), else `none`.
 */
export function markAt(marks: unknown, path: readonly string[]): 'marked' | 'below' | 'none' {
  let current = marks;
  for (const key of path) {
    if (current === true) return 'marked';
    if (current === null || typeof current !== 'object') return 'none';
    current = (current as Record<string, unknown>)[key];
  }
  if (current === true) return 'marked';
  return containsMark(current) ? 'below' : 'none';
}

function containsMark(marks: unknown): boolean {
  if (marks === true) return true;
  if (marks === null || typeof marks !== 'object') return false;
  return Object.values(marks as Record<string, unknown>).some(containsMark);
}

type Mark = ReturnType<typeof markAt>;

function strongest(a: Mark, b: Mark): Mark {
  return a === 'marked' || b === 'marked' ? 'marked' : a === 'below' || b === 'below' ? 'below' : 'none';
}

function collectDifferences(before: unknown, after: unknown, path: string[], sensitive: (path: readonly string[]) => Mark, out: DriftedAttribute[]): void {
  if (same(before, after)) return;
  const mark = path.length > 0 ? sensitive(path) : 'none';
  if (mark === 'marked') {
    out.push({ path: path.join('.'), sensitive: true });
    return;
  }
  const containers = isContainer(before) && isContainer(after);
  // Inside a block with a sensitive field, each field is looked at on its own: the others may still be shown.
  if (containers && (path.length < MAX_PATH_DEPTH || mark === 'below')) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of [...keys].sort()) collectDifferences(childOf(before, key), childOf(after, key), [...path, key], sensitive, out);
    return;
  }
  if (mark === 'below' || path.length === 0) {
    // A value holding a sensitive part (or a resource that is not an object): nothing of it is shown.
    out.push({ path: path.length === 0 ? '(whole resource)' : path.join('.'), sensitive: true });
    return;
  }
  out.push({ path: path.join('.'), sensitive: false, before: shown(before), after: shown(after) });
}

function isContainer(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

function childOf(value: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function shown(value: unknown): string {
  if (value === undefined || value === null) return '(none)';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** The report as stored in the check's row (drift_checks.drift_summary) and read back, validated. */
export const driftReportSchema: z.ZodType<DriftReport> = z.object({
  resources: z.array(
    z.object({
      address: z.string(),
      action: z.enum(['update', 'delete']),
      attributes: z.array(
        z.union([
          z.object({ path: z.string(), sensitive: z.literal(false), before: z.string(), after: z.string() }),
          z.object({ path: z.string(), sensitive: z.literal(true) }),
        ]),
      ),
      moreAttributes: z.number().int().min(0),
    }),
  ),
  moreResources: z.number().int().min(0),
});
