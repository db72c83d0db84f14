/**
 * A row of the /cloud-projects page (project-overview.ts) into a ProjectSummary, the same on both dialects: each
 * project's resources come as one JSON array of arrays, in RESOURCE_COLUMNS' order.
 */
import type { Project } from './project.js';
import type { ResourceLine } from './resource.js';
import { toResourceLine, type ResourceLineRow } from './resource-rows.js';

/** What the page shows of a project. */
export type ProjectHeadline = Pick<Project, 'id' | 'name' | 'provider' | 'region' | 'vaultSessionId' | 'credentialSource'>;

export interface ProjectSummary {
  project: ProjectHeadline;
  /** Its resources that are not destroyed, oldest first: at most `resourcesPerProject` of them. */
  resources: ResourceLine[];
  /** How many resources it has that are not destroyed, shown or not. */
  resourceCount: number;
  /** US dollars per month of its resources that may exist in the cloud. */
  monthlyUsd: number;
}

export interface OverviewLimits {
  projects: number;
  resourcesPerProject: number;
}

/** Whole numbers only, so nothing but digits reaches the SQL. */
export function assertOverviewLimits(limits: OverviewLimits): void {
  for (const limit of [limits.projects, limits.resourcesPerProject]) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`overview limits must be positive whole numbers, not ${limit}`);
  }
}

export const sqlList = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');

export interface PageRow {
  id: number;
  name: string;
  provider: Project['provider'];
  region: string;
  vault_session_id: string | null;
  credential_source: Project['credentialSource'];
  project_count: number;
  resource_count: number;
  monthly_usd: number;
  /** JSON: an array of arrays, one per resource shown, in RESOURCE_COLUMNS' order. */
  resources: string;
}

/** The columns of a resource line, in the order the JSON arrays hold them. */
export const RESOURCE_COLUMNS = [
  'id',
  'resource_type',
  'template',
  'inputs',
  'sensitive_inputs',
  'instance_type',
  'disk_size_gb',
  'estimated_monthly_cost',
  'status',
  'expires_at',
  'expired_at',
] as const satisfies ReadonlyArray<keyof ResourceLineRow>;

export function toSummary(row: PageRow): ProjectSummary {
  const lines = JSON.parse(row.resources) as unknown[][];
  return {
    project: {
      id: row.id,
      name: row.name,
      provider: row.provider,
      region: row.region,
      vaultSessionId: row.vault_session_id,
      credentialSource: row.credential_source,
    },
    resources: lines
      .map((values) => toResourceLine(Object.fromEntries(RESOURCE_COLUMNS.map((column, i) => [column, values[i]])) as ResourceLineRow))
      // Aggregates come in the subquery's order in practice, but neither database promises it: oldest first, whatever they did.
      .sort((a, b) => a.id - b.id),
    resourceCount: row.resource_count,
    monthlyUsd: row.monthly_usd,
  };
}
