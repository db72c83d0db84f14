/**
 * The data of the growth benchmark, written straight into the tables with prepared statements (seeding is not what
 * is measured): one guild with a lot of it, one with a page of it (what the commands show at most), one with none,
 * in the same file.
 */
import type Database from 'better-sqlite3';

export const GUILDS = { empty: '100000000000000001', page: '100000000000000002', big: '100000000000000003' } as const;
export type GuildKind = keyof typeof GUILDS;

/** A member who did few things long ago: a filter on them reads few rows, unless it reads the whole log. */
export const RARE_MEMBER = '200000000000000999';
/** An action done few times long ago (the same for the filter on action). */
export const RARE_ACTION = 'run.cancel';
export const ADMIN = '200000000000000001';

export interface GuildSize {
  projects: number;
  resourcesPerProject: number;
  runs: number;
  auditEntries: number;
  /** Live credentials (all shown) and deleted ones (history). */
  credentials: number;
  deletedCredentials: number;
  /** Grants in force (all shown) and ended ones (history). */
  activeGrants: number;
  endedGrants: number;
}

export const SIZES: Record<Exclude<GuildKind, 'empty'>, GuildSize> = {
  page: { projects: 25, resourcesPerProject: 10, runs: 15, auditEntries: 40, credentials: 10, deletedCredentials: 0, activeGrants: 20, endedGrants: 0 },
  big: {
    projects: 1_000,
    resourcesPerProject: 10,
    runs: 200_000,
    auditEntries: 200_000,
    credentials: 10,
    deletedCredentials: 2_000,
    activeGrants: 20,
    endedGrants: 10_000,
  },
};

/** Of ten resources: six active, two destroyed, one failed, one planned; VMs and buckets alternating. */
const RESOURCE_STATUS_CYCLE = ['active', 'active', 'active', 'destroyed', 'active', 'failed', 'active', 'destroyed', 'active', 'planned'] as const;
const ACTIONS = ['deploy.plan', 'deploy.apply', 'iac.plan', 'iac.apply', 'iac.destroy', 'jit.grant', 'jit.revoke', 'project.create', 'policy.update'];

const member = (i: number) => String(200_000_000_000_000_000n + BigInt(i % 50));

/** Fills one guild; returns the name of one of its projects (for lookups). */
export function seedGuild(sqlite: Database.Database, guildId: string, size: GuildSize, now: number): string {
  const project = sqlite.prepare(
    `INSERT INTO cloud_projects (guild_id, name, slug, provider, region, backend_settings, created_by, created_at, updated_at)
     VALUES (?, ?, ?, 'gcp', 'us-central1', '{"kind":"local"}', ?, ?, ?)`,
  );
  const resource = sqlite.prepare(
    `INSERT INTO cloud_resources (project_id, guild_id, name, resource_type, instance_type, disk_size_gb, estimated_monthly_cost, status, addresses, created_by, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const run = sqlite.prepare(
    `INSERT INTO iac_runs (guild_id, guild_run_number, project_id, kind, status, started_by, created_at, started_at, finished_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const audit = sqlite.prepare('INSERT INTO audit_log (guild_id, user_id, action, target, outcome, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const credential = sqlite.prepare(
    `INSERT INTO cloud_credentials (guild_id, name, provider, region, key_id_hint, ciphertext, iv, auth_tag, master_key_id, created_by, created_at, deleted_at)
     VALUES (?, ?, 'aws', 'eu-west-1', 'ABCD', ?, ?, ?, 'k1', ?, ?, ?)`,
  );
  const grant = sqlite.prepare(
    `INSERT INTO jit_permissions (user_id, guild_id, provider, permission_level, granted_at, expires_at, granted_by, revoked, revoked_at, revoke_reason)
     VALUES (?, ?, 'gcp', 'deployer', ?, ?, ?, ?, ?, ?)`,
  );
  const projectIds: number[] = [];
  sqlite.transaction(() => {
    for (let p = 0; p < size.projects; p++) {
      const name = `project-${String(p).padStart(4, '0')}`;
      const id = Number(project.run(guildId, name, name, ADMIN, now, now).lastInsertRowid);
      projectIds.push(id);
      for (let r = 0; r < size.resourcesPerProject; r++) {
        const vm = r % 2 === 0;
        const status = RESOURCE_STATUS_CYCLE[r % RESOURCE_STATUS_CYCLE.length]!;
        const addresses = JSON.stringify([vm ? `google_compute_instance.r${r}` : `google_storage_bucket.r${r}`]);
        resource.run(id, guildId, `r${r}`, vm ? 'vm' : 'bucket', vm ? 'e2-micro' : null, vm ? 10 : null, vm ? 7.11 : 0.5, status, addresses, ADMIN, now, now);
      }
    }
    for (let n = 1; n <= size.runs; n++) {
      const at = now - (size.runs - n) * 1000;
      // The last three are under way: one running and two queued, as on a busy day.
      const status = n > size.runs - 1 ? 'running' : n > size.runs - 3 ? 'queued' : n % 17 === 0 ? 'failed' : 'succeeded';
      run.run(guildId, n, projectIds[n % projectIds.length]!, n % 3 === 0 ? 'apply' : 'plan', status, member(n), at, at, status === 'succeeded' ? at + 500 : null);
    }
    for (let e = 0; e < size.auditEntries; e++) {
      const at = now - (size.auditEntries - e) * 1000;
      // The rare member and action appear only in the oldest twenty entries.
      const rare = e < 20;
      audit.run(guildId, rare ? RARE_MEMBER : member(e), rare ? RARE_ACTION : ACTIONS[e % ACTIONS.length]!, `project-${e % 1000}`, 'success', '{"kind":"plan"}', at);
    }
    const blob = Buffer.alloc(64, 1);
    for (let c = 0; c < size.credentials + size.deletedCredentials; c++) {
      const deleted = c >= size.credentials;
      credential.run(guildId, deleted ? `old-${c}` : `cred-${c}`, blob, blob.subarray(0, 12), blob.subarray(0, 16), ADMIN, now - c, deleted ? now - c : null);
    }
    for (let g = 0; g < size.activeGrants + size.endedGrants; g++) {
      const active = g < size.activeGrants;
      const expires = active ? now + 3_600_000 + g : now - 60_000 - g;
      grant.run(member(g), guildId, expires - 7_200_000, expires, ADMIN, active ? 0 : 1, active ? null : expires, active ? null : 'expired');
    }
  })();
  return 'project-0007';
}
