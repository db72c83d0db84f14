/**
 * Rows in every table of a SQLite database, each nullable column set in at least one row and left null in another
 * where the schema allows: what the copy to PostgreSQL must carry over, value for value. The values are the awkward
 * ones a real database holds: times in milliseconds (past 2^31), clock ticks past 2^32, floats that do not add up
 * exactly in binary, booleans both ways, blobs, non-ASCII text, JSON, a soft-deleted credential, an archived project.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/index.js';
import {
  auditLog,
  budgetHolds,
  cloudCredentials,
  cloudProjects,
  cloudResources,
  deployApprovals,
  deploymentTtlReminders,
  driftChecks,
  guildPolicies,
  guildTemplateEnablements,
  guildTiers,
  iacRuns,
  jitExpiryReminders,
  jitPermissions,
  jitRequests,
  templates,
  workspaceLeases,
} from '../../src/db/schema.js';

export const GUILD_A = '111111111111111111';
export const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';
const BOB = '444444444444444444';
/** 2026-11-30, in milliseconds: far past what a 32-bit integer holds. */
const T = 1_796_000_000_000;

/** Fills every table (guild_resource_totals through its triggers); the ids given are those the rows got. */
export function fillEveryTable(db: Db): { deletedResourceId: number } {
  db.insert(guildPolicies)
    .values([
      {
        guild_id: GUILD_A,
        max_budget_monthly: 1234.56,
        max_instances: 7,
        max_disk_size_gb: 250,
        allowed_instance_types: '["e2-small","t3.micro"]',
        allowed_resource_types: '["vm"]',
        require_approval: true,
        iac_engine_preference: 'tofu',
        max_jit_minutes: 60,
        unpriced_resources: 'refuse',
        notification_channel_id: '555555555555555555',
        jit_self_extend_minutes: 30,
        default_ttl_minutes: 1440,
        max_ttl_minutes: 10080,
        updated_by: ALICE,
        created_at: T,
        updated_at: T + 1,
      },
      { guild_id: GUILD_B, created_at: T, updated_at: T },
    ])
    .run();
  const [credential] = db
    .insert(cloudCredentials)
    .values([
      {
        guild_id: GUILD_A,
        name: 'prod',
        provider: 's3',
        region: 'eu-west-1',
        endpoint: 'https://s3.example.test',
        key_id_hint: 'WXYZ',
        ciphertext: Buffer.from([0, 1, 2, 254, 255]),
        iv: Buffer.alloc(12, 7),
        auth_tag: Buffer.alloc(16, 9),
        master_key_id: 'k1',
        is_default: true,
        created_by: ALICE,
        created_at: T,
        last_used_at: T + 5,
        deleted_at: null,
      },
      { guild_id: GUILD_A, name: 'old', provider: 'aws', ciphertext: Buffer.from('x'), iv: Buffer.alloc(12), auth_tag: Buffer.alloc(16), master_key_id: 'k0', created_by: BOB, created_at: T, deleted_at: T + 9 },
    ])
    .returning()
    .all();
  const [web, , other] = db
    .insert(cloudProjects)
    .values([
      {
        guild_id: GUILD_A,
        name: 'web',
        slug: 'web',
        provider: 'aws',
        region: 'eu-west-1',
        vault_session_id: 'vault-1',
        credential_source: 'stored',
        credential_id: credential!.id,
        state_backend: 's3',
        backend_settings: '{"bucket":"state"}',
        created_by: ALICE,
        created_at: T,
        updated_at: T,
      },
      { guild_id: GUILD_A, name: 'gone', slug: 'gone', provider: 'gcp', region: 'us-central1', status: 'archived', created_by: ALICE, created_at: T, updated_at: T },
      { guild_id: GUILD_B, name: 'Ünïcødé ☁', slug: 'unicode', provider: 'azure', region: 'westeurope', created_by: BOB, created_at: T, updated_at: T },
    ])
    .returning()
    .all();
  const resources = db
    .insert(cloudResources)
    .values([
      { project_id: web!.id, guild_id: GUILD_A, name: 'vm-1', resource_type: 'vm', template: 'vm', instance_type: 'e2-small', disk_size_gb: 20, estimated_monthly_cost: 0.1, compute_instances: 1, status: 'active', addresses: '["google_compute_instance.vm"]', created_by: ALICE, created_at: T, updated_at: T },
      { project_id: web!.id, guild_id: GUILD_A, name: 'vm-2', resource_type: 'vm', template: 'vm', estimated_monthly_cost: 0.2, compute_instances: 1, status: 'active', created_by: ALICE, created_at: T, updated_at: T },
      {
        project_id: web!.id,
        guild_id: GUILD_A,
        name: 'stack',
        resource_type: 'template',
        template: 'stack',
        template_revision: 'abc123',
        inputs: '{"size":3}',
        sensitive_inputs: '[{"name":"token","type":"string","nullable":false,"hasDefault":false}]',
        workspace: 'stack',
        estimated_monthly_cost: 19.99,
        compute_instances: 3,
        status: 'failed',
        last_error: 'quota exceeded',
        ttl_ms: 86_400_000,
        expires_at: T + 86_400_000,
        ttl_set_at: T,
        ttl_attempts: 2,
        ttl_next_attempt_at: T + 90_000_000,
        ttl_last_error: 'destroy failed',
        expired_at: T + 86_400_001,
        ttl_notice_status: 'pending',
        ttl_notice_direct_done: true,
        created_by: BOB,
        created_at: T,
        updated_at: T + 2,
      },
      { project_id: other!.id, guild_id: GUILD_B, name: 'bucket', resource_type: 'bucket', template: 'bucket', estimated_monthly_cost: 1.5, status: 'planned', created_by: BOB, created_at: T, updated_at: T },
      { project_id: other!.id, guild_id: GUILD_B, name: 'to-delete', resource_type: 'bucket', estimated_monthly_cost: 3, status: 'destroyed', created_by: BOB, created_at: T, updated_at: T },
    ])
    .returning()
    .all();
  // The highest id goes: SQLite never gives it again, and neither may PostgreSQL after the copy.
  const deleted = resources[resources.length - 1]!;
  db.delete(cloudResources).where(eq(cloudResources.id, deleted.id)).run();
  const [vm, , stack] = resources;
  db.update(cloudResources).set({ status: 'destroying', estimated_monthly_cost: 0.30000000000000004 }).where(eq(cloudResources.id, vm!.id)).run();

  db.insert(iacRuns)
    .values([
      {
        guild_id: GUILD_A,
        guild_run_number: 1,
        project_id: web!.id,
        resource_id: stack!.id,
        kind: 'apply',
        status: 'succeeded',
        engine: 'tofu',
        engine_version: '1.8.0',
        started_by: ALICE,
        channel_id: '666666666666666666',
        engine_pid: 4242,
        engine_start_ticks: 5_000_000_000,
        engine_boot_id: 'boot-1',
        engine_stops_with_bot: true,
        summary: '{"add":1}',
        error: 'warning only',
        created_at: T,
        started_at: T + 1,
        finished_at: T + 2,
      },
      { guild_id: GUILD_A, guild_run_number: 2, project_id: web!.id, kind: 'plan', started_by: BOB, engine_stops_with_bot: false, created_at: T + 3 },
    ])
    .run();
  const [grant] = db
    .insert(jitPermissions)
    .values([
      {
        user_id: BOB,
        guild_id: GUILD_A,
        provider: 'all',
        permission_level: 'admin',
        reason: 'incident',
        granted_at: T,
        expires_at: T + 3_600_000,
        granted_by: ALICE,
        revoked: true,
        revoked_at: T + 60_000,
        revoked_by: 'system',
        revoke_reason: 'expired',
        notice_status: 'failed',
        notice_attempts: 3,
        notice_error: 'DMs closed',
        notified_at: T + 61_000,
      },
      { user_id: ALICE, guild_id: GUILD_A, provider: 'gcp', permission_level: 'viewer', granted_at: T, expires_at: T + 60_000, granted_by: ALICE },
    ])
    .returning()
    .all();
  db.insert(jitRequests)
    .values([
      {
        guild_id: GUILD_A,
        kind: 'extension',
        requester_id: BOB,
        provider: 'all',
        permission_level: 'admin',
        duration_minutes: 30,
        reason: 'more time',
        grant_id: grant!.id,
        review_channel_id: '777777777777777777',
        status: 'denied',
        created_at: T,
        expires_at: T + 86_400_000,
        decided_by: ALICE,
        decided_at: T + 10,
        approved_minutes: 15,
        decision_note: 'not now',
        notice_status: 'sent',
        notice_attempts: 1,
        notice_error: 'retried once',
        notified_at: T + 11,
      },
      { guild_id: GUILD_A, kind: 'access', requester_id: ALICE, provider: 'aws', permission_level: 'deployer', duration_minutes: 60, reason: 'deploy', created_at: T, expires_at: T + 1000 },
    ])
    .run();
  db.insert(jitExpiryReminders)
    .values({ grant_id: grant!.id, expires_at: T + 3_600_000, guild_id: GUILD_A, user_id: BOB, queued_at: T, dm_status: 'sent', channel_status: 'none', attempts: 1, error: 'x', finished_at: T + 1 })
    .run();
  db.insert(deploymentTtlReminders)
    .values({ resource_id: stack!.id, expires_at: T + 86_400_000, lead_ms: 3_600_000, guild_id: GUILD_A, user_id: BOB, queued_at: T, dm_status: 'refused', channel_status: 'sent', attempts: 2, error: 'closed', finished_at: T + 2 })
    .run();
  db.insert(auditLog)
    .values([
      { guild_id: GUILD_A, user_id: ALICE, action: 'iac.apply', target: 'web', outcome: 'success', details: '{"note":"naïve ✓"}', created_at: T },
      { guild_id: GUILD_A, user_id: 'system', action: 'jit.expire', outcome: 'success', created_at: T + 1 },
      { guild_id: GUILD_B, user_id: BOB, action: 'policy.set', outcome: 'denied', created_at: T + 2 },
    ])
    .run();
  db.insert(guildTiers).values({ guild_id: GUILD_A, tier: 'team', assigned_by: 'ticket-12', assigned_at: T }).run();
  const [operatorTemplate] = db
    .insert(templates)
    .values([
      { guild_id: null, name: 'stack', source: 'operator', description: 'A stack', pinned_revision: 'digest', files_digest: 'sha', variables: '[]', missing_since: T, created_by: 'operator', created_at: T, updated_by: 'operator', updated_at: T },
      { guild_id: GUILD_A, name: 'mine', source: 'git', git_url: 'https://git.example.test/x.git', git_subdir: '', git_ref: 'main', pinned_revision: 'c0ffee', files_digest: 'sha2', created_by: ALICE, created_at: T, updated_at: T },
    ])
    .returning()
    .all();
  db.insert(guildTemplateEnablements).values({ guild_id: GUILD_A, template_id: operatorTemplate!.id, enabled_by: ALICE, enabled_at: T }).run();
  db.insert(deployApprovals)
    .values({
      guild_id: GUILD_A,
      project_id: web!.id,
      resource_id: stack!.id,
      plan_run_id: 1,
      plan_sha256: 'f'.repeat(64),
      planned_resources: '[{"type":"aws_instance"}]',
      requester_id: BOB,
      requester_is_admin: false,
      confirmed_by: BOB,
      confirmed_by_admin: true,
      credential: 'prod',
      credential_label: 'stored credential prod',
      channel_id: '666666666666666666',
      status: 'refused',
      requested_at: T,
      expires_at: T + 86_400_000,
      decided_by: ALICE,
      decided_at: T + 5,
      close_reason: 'policy',
      notice_status: 'pending',
      notice_attempts: 1,
      card_channel_id: '666666666666666666',
      card_message_id: '777777777777777777',
      card_edit_status: 'failed',
      card_edit_attempts: 2,
    })
    .run();
  db.insert(driftChecks)
    .values([
      {
        guild_id: GUILD_A,
        project_id: web!.id,
        deployment_id: stack!.id,
        schedule: '0 * * * *',
        enabled_by: ALICE,
        channel_id: '666666666666666666',
        next_check_at: T + 3_600_000,
        last_checked_at: T,
        last_status: 'drifted',
        last_failure: 'timeout',
        drift_run_id: 2,
        drift_summary: '{"changed":["aws_instance.x"]}',
        reconcile_plan_run_id: 3,
        reconcile_planned: '[]',
        created_at: T,
        updated_at: T,
      },
      { guild_id: GUILD_A, project_id: web!.id, schedule: '0 0 * * *', enabled_by: ALICE, next_check_at: T, created_at: T, updated_at: T },
    ])
    .run();
  // Leases a stopped bot left: copied as they are, they expire on the new database as they would have on this one.
  db.insert(workspaceLeases)
    .values({ guild_id: GUILD_A, workspace: 'web/site', run_id: 7, kind: 'outputs', started_by: ALICE, since: T, owner: 'host/4242/shard-1/ab12cd34', token: 'ë-token', expires_at: T + 60_000 })
    .run();
  db.insert(budgetHolds).values({ guild_id: GUILD_A, resource_id: web!.id, monthly_usd: 0.1 + 0.2, vms: 3, owner: 'host/4242/ab12cd34', expires_at: T + 60_000 }).run();
  return { deletedResourceId: deleted.id };
}
