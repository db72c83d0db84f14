/**
 * What a saved plan will do, from `show -json <plan file>`: the addresses it creates, updates, replaces, deletes
 * and reads, with counts. Only `resource_changes[].change.actions` is trusted for this, as the format documents it
 * (note the plan JSON spells the empty action `no-op`, the streaming UI `noop`).
 */
import { z } from 'zod';

const ACTION_LISTS = {
  'no-op': 'noop',
  create: 'create',
  read: 'read',
  update: 'update',
  'delete,create': 'replace',
  'create,delete': 'replace',
  delete: 'delete',
} as const;

type ChangeKind = (typeof ACTION_LISTS)[keyof typeof ACTION_LISTS];

const planJsonSchema = z.object({
  format_version: z.string().max(16),
  terraform_version: z.string().max(64).optional(),
  resource_changes: z
    .array(
      z.object({
        address: z.string().max(1024),
        mode: z.enum(['managed', 'data']).optional(),
        type: z.string().max(256).optional(),
        change: z.object({ actions: z.array(z.string().max(16)).min(1).max(2) }),
      }),
    )
    .default([]),
});

export interface PlanSummary {
  create: string[];
  update: string[];
  /** Destroyed and re-created (`["delete","create"]` or `["create","delete"]`). */
  replace: string[];
  delete: string[];
  /** Data sources read during apply. */
  read: string[];
  /** How many resources stay as they are. */
  unchanged: number;
  counts: { create: number; update: number; replace: number; delete: number };
  /** False when applying would change nothing. */
  hasChanges: boolean;
  engineVersion?: string;
}

export class PlanJsonInvalid extends Error {
  constructor(problem: string) {
    super(`the engine's plan JSON is not in the documented format: ${problem}`);
    this.name = 'PlanJsonInvalid';
  }
}

/** Summarises `show -json` output (already JSON-parsed). Throws PlanJsonInvalid when it is not a plan. */
export function summarisePlan(planJson: unknown): PlanSummary {
  const parsed = planJsonSchema.safeParse(planJson);
  if (!parsed.success) throw new PlanJsonInvalid(parsed.error.issues[0]?.message ?? 'unreadable');
  const buckets: Record<Exclude<ChangeKind, 'noop'>, string[]> = { create: [], update: [], replace: [], delete: [], read: [] };
  let unchanged = 0;
  for (const change of parsed.data.resource_changes) {
    const key = change.change.actions.join(',');
    if (!(key in ACTION_LISTS)) throw new PlanJsonInvalid(`unknown actions ${JSON.stringify(change.change.actions)} for ${change.address}`);
    const kind = ACTION_LISTS[key as keyof typeof ACTION_LISTS];
    if (kind === 'noop') unchanged++;
    else buckets[kind].push(change.address);
  }
  const counts = {
    create: buckets.create.length,
    update: buckets.update.length,
    replace: buckets.replace.length,
    delete: buckets.delete.length,
  };
  return {
    ...buckets,
    unchanged,
    counts,
    hasChanges: counts.create + counts.update + counts.replace + counts.delete > 0,
    ...(parsed.data.terraform_version ? { engineVersion: parsed.data.terraform_version } : {}),
  };
}
