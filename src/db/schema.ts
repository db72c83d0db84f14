/**
 * The whole database schema, in one place. Columns are snake_case; every time is epoch milliseconds (integer),
 * so comparisons against an injected clock are plain number comparisons.
 *
 * What is never here: a secret. Vault contents live in memory only; stored credentials are ciphertext.
 */
import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const PROVIDERS = ['gcp', 'aws', 'azure'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const RESOURCE_TYPES = ['vm', 'bucket'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** What a resource row is: one of the built-in types, or a deployment of a template (its `template` says which). */
export const RESOURCE_KINDS = [...RESOURCE_TYPES, 'template'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export const ENGINES = ['terraform', 'tofu'] as const;
export type EngineName = (typeof ENGINES)[number];

/** What a guild's policy does with a planned resource the price catalogue cannot estimate. */
export const UNPRICED_POLICIES = ['allow', 'require_approval', 'refuse'] as const;
export type UnpricedPolicy = (typeof UNPRICED_POLICIES)[number];

export const STATE_BACKENDS = ['local', 's3', 'gcs', 'azurerm'] as const;
export type StateBackendKind = (typeof STATE_BACKENDS)[number];

export const RESOURCE_STATUSES = [
  'planned',
  'applying',
  'active',
  'failed',
  'destroying',
  'destroyed',
  'interrupted',
] as const;
export type ResourceStatus = (typeof RESOURCE_STATUSES)[number];

/** `drift`: a scheduled `plan -refresh-only` (changes nothing); `refresh`: `apply -refresh-only` (state only). */
export const RUN_KINDS = ['plan', 'apply', 'destroy', 'drift', 'refresh'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** What may hold a workspace: a run of one of RUN_KINDS, or a read of its outputs (not a run, so no run number). */
export const WORKSPACE_HOLDER_KINDS = [...RUN_KINDS, 'outputs'] as const;
export type WorkspaceHolderKind = (typeof WORKSPACE_HOLDER_KINDS)[number];

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const PERMISSION_LEVELS = ['viewer', 'deployer', 'admin'] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

export const JIT_PROVIDERS = ['gcp', 'aws', 'azure', 'all'] as const;
export type JitProvider = (typeof JIT_PROVIDERS)[number];

/** Expiry notice lifecycle: null = nothing to send; pending survives a crash and is picked up by the next tick. */
export const NOTICE_STATUSES = ['pending', 'sent', 'fallback', 'failed'] as const;
/** Outbox of one edit of a posted message (an approval card shown closed): queued, done, or given up. */
export const CARD_EDIT_STATUSES = ['pending', 'edited', 'failed'] as const;
export type NoticeStatus = (typeof NOTICE_STATUSES)[number];

export const AUDIT_OUTCOMES = ['success', 'denied', 'failed', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const CREDENTIAL_PROVIDERS = ['aws', 's3', 'gcp', 'azure'] as const;
export type CredentialProvider = (typeof CREDENTIAL_PROVIDERS)[number];

export const CREDENTIAL_SOURCES = ['ephemeral', 'stored', 'service'] as const;
export type CredentialSource = (typeof CREDENTIAL_SOURCES)[number];

export const guildPolicies = sqliteTable('guild_policies', {
  guild_id: text('guild_id').primaryKey(),
  max_budget_monthly: real('max_budget_monthly').notNull().default(1000),
  max_instances: integer('max_instances').notNull().default(10),
  max_disk_size_gb: integer('max_disk_size_gb').notNull().default(500),
  /** JSON array of strings; empty means all allowed. */
  allowed_instance_types: text('allowed_instance_types').notNull().default('[]'),
  /** JSON array of strings; empty means all allowed. */
  allowed_resource_types: text('allowed_resource_types').notNull().default('[]'),
  require_approval: integer('require_approval', { mode: 'boolean' }).notNull().default(false),
  iac_engine_preference: text('iac_engine_preference', { enum: ENGINES }).notNull().default('terraform'),
  max_jit_minutes: integer('max_jit_minutes').notNull().default(480),
  unpriced_resources: text('unpriced_resources', { enum: UNPRICED_POLICIES }).notNull().default('require_approval'),
  notification_channel_id: text('notification_channel_id'),
  /** Minutes a member may add to their own grant, in total, without review (0 = every extension is reviewed). */
  jit_self_extend_minutes: integer('jit_self_extend_minutes').notNull().default(0),
  /** Time to live given to a deployment that asks for none (minutes); null: none, deployments live until destroyed. */
  default_ttl_minutes: integer('default_ttl_minutes'),
  /** Longest time to live a deployment may have (minutes); null: no limit (and a deployment may have none). */
  max_ttl_minutes: integer('max_ttl_minutes'),
  updated_by: text('updated_by'),
  created_at: integer('created_at').notNull(),
  updated_at: integer('updated_at').notNull(),
});

export const cloudCredentials = sqliteTable(
  'cloud_credentials',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    guild_id: text('guild_id').notNull(),
    name: text('name').notNull(),
    provider: text('provider', { enum: CREDENTIAL_PROVIDERS }).notNull(),
    region: text('region'),
    /** S3-compatible endpoint (e.g. a Spaces or MinIO URL); not a secret. */
    endpoint: text('endpoint'),
    /** Last four characters of the access key id, for recognising it; never more. */
    key_id_hint: text('key_id_hint'),
    ciphertext: blob('ciphertext', { mode: 'buffer' }).notNull(),
    iv: blob('iv', { mode: 'buffer' }).notNull(),
    auth_tag: blob('auth_tag', { mode: 'buffer' }).notNull(),
    /** Which master key encrypted this row, so keys can be rotated without downtime. */
    master_key_id: text('master_key_id').notNull(),
    is_default: integer('is_default', { mode: 'boolean' }).notNull().default(false),
    created_by: text('created_by').notNull(),
    created_at: integer('created_at').notNull(),
    last_used_at: integer('last_used_at'),
    deleted_at: integer('deleted_at'),
  },
  (t) => [
    uniqueIndex('cloud_credentials_guild_name_live').on(t.guild_id, t.name).where(sql`deleted_at IS NULL`),
    index('cloud_credentials_guild').on(t.guild_id, t.deleted_at),
  ],
);

export const cloudProjects = sqliteTable(
  'cloud_projects',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    guild_id: text('guild_id').notNull(),
    name: text('name').notNull(),
    slug: text('slug').notNull(),
    provider: text('provider', { enum: PROVIDERS }).notNull(),
    region: text('region').notNull(),
    /** The vault session holding this project's secrets. Never the secret itself. */
    vault_session_id: text('vault_session_id'),
    credential_source: text('credential_source', { enum: CREDENTIAL_SOURCES }).notNull().default('ephemeral'),
    credential_id: integer('credential_id').references(() => cloudCredentials.id),
    state_backend: text('state_backend', { enum: STATE_BACKENDS }).notNull().default('local'),
    /** JSON of non-secret backend settings (bucket, endpoint, region, container...). */
    backend_settings: text('backend_settings').notNull().default('{}'),
    status: text('status', { enum: ['active', 'archived'] }).notNull().default('active'),
    created_by: text('created_by').notNull(),
    created_at: integer('created_at').notNull(),
    updated_at: integer('updated_at').notNull(),
  },
  (t) => [
    // Only live projects hold their name and folder: a forgotten (archived) project frees both for reuse.
    uniqueIndex('cloud_projects_guild_slug_live').on(t.guild_id, t.slug).where(sql`status = 'active'`),
    uniqueIndex('cloud_projects_guild_name_live').on(t.guild_id, t.name).where(sql`status = 'active'`),
  ],
);

export const cloudResources = sqliteTable(
  'cloud_resources',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    project_id: integer('project_id')
      .notNull()
      .references(() => cloudProjects.id),
    guild_id: text('guild_id').notNull(),
    name: text('name').notNull(),
    /** `vm` or `bucket` for the built-ins (generated configuration in the project's folder), `template` otherwise. */
    resource_type: text('resource_type', { enum: RESOURCE_KINDS }).notNull(),
    /** The template deployed: `vm` or `bucket` for the built-ins, else a template's name in the guild's catalogue. */
    template: text('template').notNull().default(''),
    /** The template's pinned revision (git commit, or digest of the operator's files) at the last plan. */
    template_revision: text('template_revision'),
    /** JSON object of the non-sensitive input values, by variable name, so the deployment can be planned again. */
    inputs: text('inputs').notNull().default('{}'),
    /**
     * JSON array of the sensitive inputs' declarations (name, type, nullable, whether a default exists): never their
     * values, which live only in the project's vault session.
     */
    sensitive_inputs: text('sensitive_inputs').notNull().default('[]'),
    /** A template deployment's own folder inside its project's (`<project>/<workspace>/`); null: the project's folder. */
    workspace: text('workspace'),
    instance_type: text('instance_type'),
    disk_size_gb: integer('disk_size_gb'),
    estimated_monthly_cost: real('estimated_monthly_cost').notNull().default(0),
    /**
     * Compute instances (VMs) this row stands for, as its plan makes them: 1 for a built-in VM, what the module
     * creates for a template deployment. Set with the plan's estimate; counted against `max_instances` like the
     * estimate against the budget, once the row may exist in the cloud.
     */
    compute_instances: integer('compute_instances').notNull().default(0),
    status: text('status', { enum: RESOURCE_STATUSES }).notNull().default('planned'),
    /** Terraform resource addresses this row stands for (JSON array), filled from the plan. */
    addresses: text('addresses').notNull().default('[]'),
    last_error: text('last_error'),
    /** The time to live asked for at deploy (ms); the clock starts when the apply succeeds (`expires_at`). */
    ttl_ms: integer('ttl_ms'),
    /** When the janitor destroys this deployment (src/ttl); null: it lives until someone destroys it. */
    expires_at: integer('expires_at'),
    /** When the clock last started (apply, or an extension): reminders fire only for a lifetime longer than their lead. */
    ttl_set_at: integer('ttl_set_at'),
    /**
     * Failed destroys at expiry so far, and when the next try may start: the end itself until a try fails, then later
     * by the backoff. The janitor's due query walks this one, so deployments waiting for a retry are not read each tick.
     */
    ttl_attempts: integer('ttl_attempts').notNull().default(0),
    ttl_next_attempt_at: integer('ttl_next_attempt_at'),
    ttl_last_error: text('ttl_last_error'),
    /** Set when the janitor destroyed it because its time was up. */
    expired_at: integer('expired_at'),
    /** Outbox of the one "destroyed, its time was up" notice; 'pending' is set with `expired_at`. */
    ttl_notice_status: text('ttl_notice_status', { enum: NOTICE_STATUSES }),
    /**
     * Set once the deployer's DM of that notice went out (or was refused), before the channel post: a crash between
     * the two then sends only the post again, never a second DM.
     */
    ttl_notice_direct_done: integer('ttl_notice_direct_done', { mode: 'boolean' }).notNull().default(false),
    created_by: text('created_by').notNull(),
    created_at: integer('created_at').notNull(),
    updated_at: integer('updated_at').notNull(),
  },
  (t) => [
    // The janitor's TTL reminders and expiries walk deployments with a time to live still to run out, by their end.
    index('cloud_resources_ttl_due').on(t.expires_at).where(sql`expires_at IS NOT NULL AND expired_at IS NULL`),
    index('cloud_resources_ttl_next_try').on(t.ttl_next_attempt_at).where(sql`ttl_next_attempt_at IS NOT NULL AND expired_at IS NULL`),
    index('cloud_resources_ttl_notice').on(t.ttl_notice_status).where(sql`ttl_notice_status = 'pending'`),
    index('cloud_resources_guild_status').on(t.guild_id, t.status),
    index('cloud_resources_project').on(t.project_id),
    // Start-up looks for resources a stopped bot left applying or destroying, in every guild at once.
    index('cloud_resources_status').on(t.status),
  ],
);

/**
 * For each guild, resource status and type: how many resources there are, their monthly estimate and their compute
 * instances. Kept by triggers on cloud_resources (migrations 0007_resource_totals, then 0012_template_instances), in the statement that changes the resource, so the
 * policy check and /cloud-projects read a handful of rows instead of summing every resource of the guild. No code
 * writes it; a row whose count is back to 0 stays, at $0.
 */
export const guildResourceTotals = sqliteTable(
  'guild_resource_totals',
  {
    guild_id: text('guild_id').notNull(),
    status: text('status', { enum: RESOURCE_STATUSES }).notNull(),
    resource_type: text('resource_type', { enum: RESOURCE_KINDS }).notNull(),
    resources: integer('resources').notNull(),
    monthly_usd: real('monthly_usd').notNull(),
    /** The sum of the rows' compute_instances: a template deployment may stand for several VMs, or none. */
    compute_instances: integer('compute_instances').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.guild_id, t.status, t.resource_type] })],
);

export const iacRuns = sqliteTable(
  'iac_runs',
  {
    /** Internal only: global across guilds, so never shown to a member (it would reveal other guilds' activity). */
    id: integer('id').primaryKey({ autoIncrement: true }),
    guild_id: text('guild_id').notNull(),
    /** The run's number within its guild (1, 2, 3...): what members see and type. Assigned at insert. */
    guild_run_number: integer('guild_run_number').notNull(),
    project_id: integer('project_id')
      .notNull()
      .references(() => cloudProjects.id),
    resource_id: integer('resource_id').references(() => cloudResources.id),
    kind: text('kind', { enum: RUN_KINDS }).notNull(),
    status: text('status', { enum: RUN_STATUSES }).notNull().default('queued'),
    engine: text('engine', { enum: ENGINES }),
    engine_version: text('engine_version'),
    started_by: text('started_by').notNull(),
    /** The channel the run was started from, so a crash can be reported where the member was looking. */
    channel_id: text('channel_id'),
    /**
     * The engine process of the current (or last) command of this run, so the next start-up can stop an engine a
     * crashed bot left behind: pid plus its start time (field 22 of /proc/<pid>/stat, clock ticks since boot) and
     * the boot id, so a reused pid is never mistaken for it.
     */
    engine_pid: integer('engine_pid'),
    engine_start_ticks: integer('engine_start_ticks'),
    engine_boot_id: text('engine_boot_id'),
    /** Whether that engine gets SIGINT by itself when the bot dies (spawned through setpriv --pdeathsig). */
    engine_stops_with_bot: integer('engine_stops_with_bot', { mode: 'boolean' }),
    /** JSON summary of the plan or apply (counts, addresses); no secrets. */
    summary: text('summary'),
    error: text('error'),
    created_at: integer('created_at').notNull(),
    started_at: integer('started_at'),
    finished_at: integer('finished_at'),
  },
  (t) => [
    index('iac_runs_status').on(t.status),
    index('iac_runs_project').on(t.project_id, t.created_at),
    uniqueIndex('iac_runs_guild_number').on(t.guild_id, t.guild_run_number),
    // How many of one guild's runs are queued or running (/cloud-runs, the tier's run slots), whatever other guilds run.
    index('iac_runs_guild_status').on(t.guild_id, t.status),
  ],
);

export const jitPermissions = sqliteTable(
  'jit_permissions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    user_id: text('user_id').notNull(),
    guild_id: text('guild_id').notNull(),
    provider: text('provider', { enum: JIT_PROVIDERS }).notNull(),
    permission_level: text('permission_level', { enum: PERMISSION_LEVELS }).notNull(),
    reason: text('reason'),
    granted_at: integer('granted_at').notNull(),
    expires_at: integer('expires_at').notNull(),
    granted_by: text('granted_by').notNull(),
    revoked: integer('revoked', { mode: 'boolean' }).notNull().default(false),
    revoked_at: integer('revoked_at'),
    revoked_by: text('revoked_by'),
    revoke_reason: text('revoke_reason', { enum: ['manual', 'expired'] }),
    /** Expiry DM outbox: set to 'pending' in the same transaction that revokes, so a crash cannot lose it. */
    notice_status: text('notice_status', { enum: NOTICE_STATUSES }),
    notice_attempts: integer('notice_attempts').notNull().default(0),
    notice_error: text('notice_error'),
    notified_at: integer('notified_at'),
  },
  (t) => [
    // Only grants still in force: revoking one takes it out of this index instead of moving it within, and the
    // janitor's due query (which says `revoked = 0` literally, so SQLite may use a partial index) reads a small one.
    index('jit_expiry_due').on(t.expires_at).where(sql`revoked = 0`),
    // No `revoked` column: revoking (a million grants after a long downtime) then leaves this index untouched.
    // A member has few grants, so checking `revoked` on their rows costs next to nothing.
    index('jit_member_active').on(t.guild_id, t.user_id, t.expires_at),
    // /cloud-jit-list for the whole guild: the grants not yet expired, in expiry order, not the guild's whole history.
    index('jit_guild_expiry').on(t.guild_id, t.expires_at),
    index('jit_notice_pending').on(t.notice_status).where(sql`notice_status = 'pending'`),
  ],
);

export const JIT_REQUEST_KINDS = ['access', 'extension'] as const;
export type JitRequestKind = (typeof JIT_REQUEST_KINDS)[number];

export const JIT_REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;
export type JitRequestStatus = (typeof JIT_REQUEST_STATUSES)[number];

/**
 * A member's request for JIT access (or for more time on a grant they hold), reviewed by an admin from buttons
 * whose custom ids name the row: the row, not the process, is what a press acts on, so presses survive a restart.
 */
export const jitRequests = sqliteTable(
  'jit_requests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    guild_id: text('guild_id').notNull(),
    kind: text('kind', { enum: JIT_REQUEST_KINDS }).notNull(),
    requester_id: text('requester_id').notNull(),
    provider: text('provider', { enum: JIT_PROVIDERS }).notNull(),
    permission_level: text('permission_level', { enum: PERMISSION_LEVELS }).notNull(),
    /** Minutes asked for: the grant's length, or the time added to the grant (extension). */
    duration_minutes: integer('duration_minutes').notNull(),
    reason: text('reason').notNull(),
    /** Extension: the grant to extend. Access, once approved: the grant made. */
    grant_id: integer('grant_id').references(() => jitPermissions.id),
    /** Where the request was posted for review; null for a self-extension, which nobody reviews. */
    review_channel_id: text('review_channel_id'),
    status: text('status', { enum: JIT_REQUEST_STATUSES }).notNull().default('pending'),
    created_at: integer('created_at').notNull(),
    /** A pending request past this is expired (the janitor marks it and tells the requester). */
    expires_at: integer('expires_at').notNull(),
    decided_by: text('decided_by'),
    decided_at: integer('decided_at'),
    /** Minutes the reviewer approved (at most those asked). */
    approved_minutes: integer('approved_minutes'),
    /** The reviewer's words to the requester on a denial. */
    decision_note: text('decision_note'),
    /** Outbox of the one notice telling the requester the outcome; 'pending' is set with the outcome itself. */
    notice_status: text('notice_status', { enum: NOTICE_STATUSES }),
    notice_attempts: integer('notice_attempts').notNull().default(0),
    notice_error: text('notice_error'),
    notified_at: integer('notified_at'),
  },
  (t) => [
    index('jit_requests_guild_status').on(t.guild_id, t.status, t.requester_id),
    index('jit_requests_pending_due').on(t.expires_at).where(sql`status = 'pending'`),
    index('jit_requests_notice_pending').on(t.notice_status).where(sql`notice_status = 'pending'`),
    index('jit_requests_grant').on(t.grant_id),
  ],
);

/** How far a reminder's delivery got, per channel: 'none' when there was nowhere to send (no channel set). */
export const REMINDER_STATUSES = ['pending', 'sent', 'refused', 'none', 'failed', 'skipped'] as const;
export type ReminderStatus = (typeof REMINDER_STATUSES)[number];

/**
 * The outbox of "your grant ends soon" reminders: one row per grant and expiry time (an extension moves the expiry,
 * so it earns a new reminder). Queued in one statement, each channel marked once sent, so a crash neither loses nor
 * repeats one.
 */
export const jitExpiryReminders = sqliteTable(
  'jit_expiry_reminders',
  {
    grant_id: integer('grant_id')
      .notNull()
      .references(() => jitPermissions.id),
    expires_at: integer('expires_at').notNull(),
    guild_id: text('guild_id').notNull(),
    user_id: text('user_id').notNull(),
    queued_at: integer('queued_at').notNull(),
    dm_status: text('dm_status', { enum: REMINDER_STATUSES }).notNull().default('pending'),
    channel_status: text('channel_status', { enum: REMINDER_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    /** Null while a channel is still 'pending': the row is in the outbox until then. */
    finished_at: integer('finished_at'),
  },
  (t) => [
    primaryKey({ columns: [t.grant_id, t.expires_at] }),
    index('jit_reminders_unfinished').on(t.grant_id).where(sql`finished_at IS NULL`),
  ],
);

/**
 * The outbox of "this deployment is destroyed soon" reminders (src/ttl): one row per deployment, end and lead (24 h,
 * 1 h before...). An extension moves the end, which earns new reminders. Each channel is marked once sent, so a crash
 * neither loses nor repeats one.
 */
export const deploymentTtlReminders = sqliteTable(
  'deployment_ttl_reminders',
  {
    resource_id: integer('resource_id')
      .notNull()
      .references(() => cloudResources.id),
    expires_at: integer('expires_at').notNull(),
    lead_ms: integer('lead_ms').notNull(),
    guild_id: text('guild_id').notNull(),
    user_id: text('user_id').notNull(),
    queued_at: integer('queued_at').notNull(),
    dm_status: text('dm_status', { enum: REMINDER_STATUSES }).notNull().default('pending'),
    channel_status: text('channel_status', { enum: REMINDER_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    finished_at: integer('finished_at'),
  },
  (t) => [
    primaryKey({ columns: [t.resource_id, t.expires_at, t.lead_ms] }),
    index('ttl_reminders_unfinished').on(t.resource_id).where(sql`finished_at IS NULL`),
  ],
);

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    guild_id: text('guild_id').notNull(),
    user_id: text('user_id').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    outcome: text('outcome', { enum: AUDIT_OUTCOMES }).notNull(),
    /** JSON details; callers must never put a secret here. */
    details: text('details'),
    created_at: integer('created_at').notNull(),
  },
  (t) => [
    index('audit_log_guild_time').on(t.guild_id, t.created_at),
    // /cloud-audit action: and user: read the newest matching entries straight off these, not the guild's whole log.
    index('audit_log_guild_action').on(t.guild_id, t.action, t.created_at),
    // Members only: the janitor's entries (user "system", thousands a tick) would double what each of its writes costs,
    // for a filter no one can ask for (/cloud-audit user: takes a member). AuditLog.recent says so in its query.
    index('audit_log_guild_member').on(t.guild_id, t.user_id, t.created_at).where(sql`user_id <> 'system'`),
  ],
);

/**
 * The plan an operator assigned a guild (src/tiers): which caps apply to what it may set. No row: the default tier,
 * today's behaviour. Written only by the operator's CLI (npm run tiers), never by a command a guild can run.
 */
export const guildTiers = sqliteTable('guild_tiers', {
  guild_id: text('guild_id').primaryKey(),
  tier: text('tier').notNull(),
  /** Who assigned it, as the operator typed it (a name, a ticket); free text, not a Discord id. */
  assigned_by: text('assigned_by'),
  assigned_at: integer('assigned_at').notNull(),
});

/** Where a stored template came from; the built-ins (vm, bucket) have no row. */
export const STORED_TEMPLATE_SOURCES = ['operator', 'git'] as const;
export type StoredTemplateSource = (typeof STORED_TEMPLATE_SOURCES)[number];

/**
 * Templates (src/templates): the operator's (guild_id null; one row per folder of TEMPLATES_DIR, written at start-up)
 * and the ones a guild added from git (its own, invisible to every other guild). The files live outside the
 * database: the operator's folder, or the bot's template store at the pinned commit.
 */
export const templates = sqliteTable(
  'templates',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    guild_id: text('guild_id'),
    name: text('name').notNull(),
    source: text('source', { enum: STORED_TEMPLATE_SOURCES }).notNull(),
    description: text('description'),
    git_url: text('git_url'),
    /** The folder inside the repository, '' for its top. */
    git_subdir: text('git_subdir'),
    git_ref: text('git_ref'),
    /** git: the commit the ref resolved to; operator: the digest of its files. What deploys run, until an update. */
    pinned_revision: text('pinned_revision').notNull(),
    /** sha256 of the files as pinned, checked again before every run. */
    files_digest: text('files_digest').notNull(),
    /** JSON array of TemplateVariable, as read from the files at the pinned revision. */
    variables: text('variables').notNull().default('[]'),
    /** operator: set when a start-up no longer found its folder; hidden until it is back (enablements are kept). */
    missing_since: integer('missing_since'),
    created_by: text('created_by').notNull(),
    created_at: integer('created_at').notNull(),
    updated_by: text('updated_by'),
    updated_at: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('templates_guild_name').on(t.guild_id, t.name).where(sql`guild_id IS NOT NULL`),
    uniqueIndex('templates_operator_name').on(t.name).where(sql`guild_id IS NULL`),
  ],
);

/** The operator templates a guild enabled: only those are offered to its members. */
export const guildTemplateEnablements = sqliteTable(
  'guild_template_enablements',
  {
    guild_id: text('guild_id').notNull(),
    template_id: integer('template_id')
      .notNull()
      .references(() => templates.id, { onDelete: 'cascade' }),
    enabled_by: text('enabled_by').notNull(),
    enabled_at: integer('enabled_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.guild_id, t.template_id] })],
);

/** How a deployment's approval request ended; `refused` when a check at the press closed it (policy, plan gone). */
export const DEPLOY_APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'refused'] as const;
export type DeployApprovalStatus = (typeof DEPLOY_APPROVAL_STATUSES)[number];

/**
 * Deployments waiting for an admin's approval (the policy's `require_approval`, or resources not estimated): what a
 * reviewer's press approves (a plan run of a resource row), read at the press, so the buttons work after a restart.
 * `planned_resources` is the policy's input read from the plan (types, instance types, disk sizes; no variable values).
 */
export const deployApprovals = sqliteTable(
  'deploy_approvals',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    guild_id: text('guild_id').notNull(),
    project_id: integer('project_id')
      .notNull()
      .references(() => cloudProjects.id),
    resource_id: integer('resource_id')
      .notNull()
      .references(() => cloudResources.id),
    /** The guild's run number of the plan this approves, and its file's digest when it was shown. */
    plan_run_id: integer('plan_run_id').notNull(),
    plan_sha256: text('plan_sha256').notNull(),
    planned_resources: text('planned_resources').notNull(),
    requester_id: text('requester_id').notNull(),
    /** The requester's Manage Server flag as last seen (when Apply was pressed). */
    requester_is_admin: integer('requester_is_admin', { mode: 'boolean' }).notNull(),
    confirmed_by: text('confirmed_by').notNull(),
    confirmed_by_admin: integer('confirmed_by_admin', { mode: 'boolean' }).notNull(),
    /** The `credential` option given at deploy (`session`, `service`, a stored name); null: the project's own. */
    credential: text('credential'),
    /** Which credential the plan was made with, as shown (no secret): the apply must run with the same one. */
    credential_label: text('credential_label').notNull(),
    /** Where the request was posted and the deployment asked for. */
    channel_id: text('channel_id').notNull(),
    status: text('status', { enum: DEPLOY_APPROVAL_STATUSES }).notNull().default('pending'),
    requested_at: integer('requested_at').notNull(),
    expires_at: integer('expires_at').notNull(),
    decided_by: text('decided_by'),
    decided_at: integer('decided_at'),
    /** Why a check at the press closed it (`policy`, `plan_gone`, `resource_gone`), for the card and the audit log. */
    close_reason: text('close_reason'),
    /** Outbox of the one notice telling the requester the decision; 'pending' is set with the decision itself. */
    notice_status: text('notice_status', { enum: NOTICE_STATUSES }),
    notice_attempts: integer('notice_attempts').notNull().default(0),
    /** Where the card with Approve and Reject was posted (null: never posted, or posted before this was kept). */
    card_channel_id: text('card_channel_id'),
    card_message_id: text('card_message_id'),
    /**
     * Outbox of the one edit showing the card closed when it was closed without a press on it (the janitor's expiry):
     * 'pending' is set with the closing itself; a press updates the card it is on and leaves this null.
     */
    card_edit_status: text('card_edit_status', { enum: CARD_EDIT_STATUSES }),
    card_edit_attempts: integer('card_edit_attempts').notNull().default(0),
  },
  (t) => [
    index('deploy_approvals_card_edit_pending').on(t.card_edit_status).where(sql`card_edit_status = 'pending'`),
    index('deploy_approvals_pending_due').on(t.expires_at).where(sql`status = 'pending'`),
    index('deploy_approvals_notice_pending').on(t.notice_status).where(sql`notice_status = 'pending'`),
    index('deploy_approvals_resource').on(t.resource_id),
  ],
);

/** How a workspace's last drift check ended: what the next report is compared with (a failure is reported once). */
export const DRIFT_STATUSES = ['never', 'clean', 'drifted', 'failed'] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];

/**
 * A drift check an admin enabled on a project's own workspace (deployment_id 0) or one template deployment's. The
 * janitor runs it when `next_check_at` has come; what it found last is kept so a failure is reported once, and the
 * buttons of a drift report (Plan to reconcile, Accept) act on this row as it is at the press.
 */
export const driftChecks = sqliteTable(
  'drift_checks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    guild_id: text('guild_id').notNull(),
    project_id: integer('project_id')
      .notNull()
      .references(() => cloudProjects.id),
    /** The template deployment's resource id; 0 for the project's own workspace (its built-ins). */
    deployment_id: integer('deployment_id').notNull().default(0),
    /** node-cron expression, evaluated in UTC. */
    schedule: text('schedule').notNull(),
    enabled_by: text('enabled_by').notNull(),
    /** Where it was enabled: reports go there when the guild has no notification channel. */
    channel_id: text('channel_id'),
    next_check_at: integer('next_check_at').notNull(),
    last_checked_at: integer('last_checked_at'),
    last_status: text('last_status', { enum: DRIFT_STATUSES }).notNull().default('never'),
    /** Why the last check could not run (a stable code): a new failure is reported, the same one again is not. */
    last_failure: text('last_failure'),
    /** The guild run number of the check whose drift was reported: the buttons act on that report only. */
    drift_run_id: integer('drift_run_id'),
    /** JSON of what drifted (addresses and attribute paths, sensitive values masked); no secret. */
    drift_summary: text('drift_summary'),
    /** The plan a Plan to reconcile press made, offered for Apply. */
    reconcile_plan_run_id: integer('reconcile_plan_run_id'),
    /** What that plan makes, as the policy reads it (types, sizes; no values): checked again at its Apply. */
    reconcile_planned: text('reconcile_planned'),
    created_at: integer('created_at').notNull(),
    updated_at: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('drift_checks_target').on(t.guild_id, t.project_id, t.deployment_id), index('drift_checks_due').on(t.next_check_at)],
);

/**
 * One run at a time per workspace, across every process on the database (src/engine/workspace-leases.ts): a row is the
 * lock. It is taken by one INSERT (a row already there and not expired means busy), renewed by the holding process's
 * heartbeat, deleted when the run ends, and taken over once `expires_at` has passed (its process is gone).
 */
export const workspaceLeases = sqliteTable(
  'workspace_leases',
  {
    guild_id: text('guild_id').notNull(),
    /** The project's slug, or `<slug>/<deployment>` for a template deployment's folder (run-workspace.ts). */
    workspace: text('workspace').notNull(),
    /** The holder's guild run number; 0 for a read of outputs, which is not a run. */
    run_id: integer('run_id').notNull(),
    kind: text('kind', { enum: WORKSPACE_HOLDER_KINDS }).notNull(),
    started_by: text('started_by').notNull(),
    /** When the holder asked for the workspace (shown to a member who is refused). */
    since: integer('since').notNull(),
    /** The process holding it (src/shared/leases.ts): its heartbeat renews its own rows only. */
    owner: text('owner').notNull(),
    /** This claim alone, so a release never deletes a later holder's row. */
    token: text('token').notNull(),
    expires_at: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.guild_id, t.workspace] }), index('workspace_leases_owner').on(t.owner)],
);

/**
 * Budget and instance slots promised to a deployment between its policy check at Apply and the end of its run
 * (src/deploy/budget-reservations.ts), written in the check's own transaction so two processes cannot both fit one
 * budget. Renewed by the holding process's heartbeat; a crashed holder's hold stops counting at `expires_at`.
 */
export const budgetHolds = sqliteTable(
  'budget_holds',
  {
    guild_id: text('guild_id').notNull(),
    resource_id: integer('resource_id').notNull(),
    monthly_usd: real('monthly_usd').notNull(),
    /** Compute instances the plan makes. */
    vms: integer('vms').notNull(),
    owner: text('owner').notNull(),
    expires_at: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.guild_id, t.resource_id] }), index('budget_holds_owner').on(t.owner)],
);

export const schema = {
  guildPolicies,
  cloudCredentials,
  cloudProjects,
  cloudResources,
  guildResourceTotals,
  iacRuns,
  jitPermissions,
  jitRequests,
  jitExpiryReminders,
  deploymentTtlReminders,
  auditLog,
  guildTiers,
  templates,
  guildTemplateEnablements,
  deployApprovals,
  driftChecks,
  workspaceLeases,
  budgetHolds,
};
