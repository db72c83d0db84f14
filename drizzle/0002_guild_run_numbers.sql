-- Runs are numbered per guild (guild_run_number), so no guild learns from a run id how many runs other guilds
-- start. SQLite cannot add a NOT NULL column without a default, so the table is rebuilt; existing runs are
-- numbered 1, 2, 3... in id order within their guild. The engine_* and channel_id columns let the next start-up
-- stop an engine a crashed bot left running and tell the member where they started it.
CREATE TABLE `__new_iac_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text NOT NULL,
	`guild_run_number` integer NOT NULL,
	`project_id` integer NOT NULL,
	`resource_id` integer,
	`kind` text NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`engine` text,
	`engine_version` text,
	`started_by` text NOT NULL,
	`channel_id` text,
	`engine_pid` integer,
	`engine_start_ticks` integer,
	`engine_boot_id` text,
	`engine_stops_with_bot` integer,
	`summary` text,
	`error` text,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `cloud_projects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`resource_id`) REFERENCES `cloud_resources`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_iac_runs` (`id`, `guild_id`, `guild_run_number`, `project_id`, `resource_id`, `kind`, `status`, `engine`, `engine_version`, `started_by`, `summary`, `error`, `created_at`, `started_at`, `finished_at`)
SELECT `id`, `guild_id`, ROW_NUMBER() OVER (PARTITION BY `guild_id` ORDER BY `id`), `project_id`, `resource_id`, `kind`, `status`, `engine`, `engine_version`, `started_by`, `summary`, `error`, `created_at`, `started_at`, `finished_at`
FROM `iac_runs`;
--> statement-breakpoint
DROP TABLE `iac_runs`;--> statement-breakpoint
ALTER TABLE `__new_iac_runs` RENAME TO `iac_runs`;--> statement-breakpoint
CREATE INDEX `iac_runs_status` ON `iac_runs` (`status`);--> statement-breakpoint
CREATE INDEX `iac_runs_project` ON `iac_runs` (`project_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `iac_runs_guild_number` ON `iac_runs` (`guild_id`,`guild_run_number`);
