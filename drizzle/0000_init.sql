CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text NOT NULL,
	`user_id` text NOT NULL,
	`action` text NOT NULL,
	`target` text,
	`outcome` text NOT NULL,
	`details` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_guild_time` ON `audit_log` (`guild_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `cloud_credentials` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text NOT NULL,
	`name` text NOT NULL,
	`provider` text NOT NULL,
	`region` text,
	`endpoint` text,
	`key_id_hint` text,
	`ciphertext` blob NOT NULL,
	`iv` blob NOT NULL,
	`auth_tag` blob NOT NULL,
	`master_key_id` text NOT NULL,
	`is_default` integer DEFAULT false NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cloud_credentials_guild_name_live` ON `cloud_credentials` (`guild_id`,`name`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE INDEX `cloud_credentials_guild` ON `cloud_credentials` (`guild_id`,`deleted_at`);--> statement-breakpoint
CREATE TABLE `cloud_projects` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text NOT NULL,
	`name` text NOT NULL,
	`slug` text NOT NULL,
	`provider` text NOT NULL,
	`region` text NOT NULL,
	`vault_session_id` text,
	`credential_source` text DEFAULT 'ephemeral' NOT NULL,
	`credential_id` integer,
	`state_backend` text DEFAULT 'local' NOT NULL,
	`backend_settings` text DEFAULT '{}' NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`credential_id`) REFERENCES `cloud_credentials`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cloud_projects_guild_slug` ON `cloud_projects` (`guild_id`,`slug`);--> statement-breakpoint
CREATE UNIQUE INDEX `cloud_projects_guild_name` ON `cloud_projects` (`guild_id`,`name`);--> statement-breakpoint
CREATE TABLE `cloud_resources` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`project_id` integer NOT NULL,
	`guild_id` text NOT NULL,
	`name` text NOT NULL,
	`resource_type` text NOT NULL,
	`instance_type` text,
	`disk_size_gb` integer,
	`estimated_monthly_cost` real DEFAULT 0 NOT NULL,
	`status` text DEFAULT 'planned' NOT NULL,
	`addresses` text DEFAULT '[]' NOT NULL,
	`last_error` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `cloud_projects`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `cloud_resources_guild_status` ON `cloud_resources` (`guild_id`,`status`);--> statement-breakpoint
CREATE INDEX `cloud_resources_project` ON `cloud_resources` (`project_id`);--> statement-breakpoint
CREATE TABLE `guild_policies` (
	`guild_id` text PRIMARY KEY NOT NULL,
	`max_budget_monthly` real DEFAULT 1000 NOT NULL,
	`max_instances` integer DEFAULT 10 NOT NULL,
	`max_disk_size_gb` integer DEFAULT 500 NOT NULL,
	`allowed_instance_types` text DEFAULT '[]' NOT NULL,
	`allowed_resource_types` text DEFAULT '[]' NOT NULL,
	`require_approval` integer DEFAULT false NOT NULL,
	`iac_engine_preference` text DEFAULT 'terraform' NOT NULL,
	`max_jit_minutes` integer DEFAULT 480 NOT NULL,
	`notification_channel_id` text,
	`updated_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `iac_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text NOT NULL,
	`project_id` integer NOT NULL,
	`resource_id` integer,
	`kind` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`engine` text,
	`engine_version` text,
	`started_by` text NOT NULL,
	`summary` text,
	`error` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `cloud_projects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`resource_id`) REFERENCES `cloud_resources`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `iac_runs_status` ON `iac_runs` (`status`);--> statement-breakpoint
CREATE INDEX `iac_runs_project` ON `iac_runs` (`project_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `jit_permissions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`guild_id` text NOT NULL,
	`provider` text NOT NULL,
	`permission_level` text NOT NULL,
	`reason` text,
	`granted_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`granted_by` text NOT NULL,
	`revoked` integer DEFAULT false NOT NULL,
	`revoked_at` integer,
	`revoked_by` text,
	`revoke_reason` text,
	`notice_status` text,
	`notice_attempts` integer DEFAULT 0 NOT NULL,
	`notice_error` text,
	`notified_at` integer
);
--> statement-breakpoint
CREATE INDEX `jit_expiry_due` ON `jit_permissions` (`revoked`,`expires_at`);--> statement-breakpoint
CREATE INDEX `jit_member_active` ON `jit_permissions` (`guild_id`,`user_id`,`revoked`,`expires_at`);--> statement-breakpoint
CREATE INDEX `jit_notice_pending` ON `jit_permissions` (`notice_status`) WHERE notice_status = 'pending';