CREATE TABLE `drift_checks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text NOT NULL,
	`project_id` integer NOT NULL,
	`deployment_id` integer DEFAULT 0 NOT NULL,
	`schedule` text NOT NULL,
	`enabled_by` text NOT NULL,
	`channel_id` text,
	`next_check_at` integer NOT NULL,
	`last_checked_at` integer,
	`last_status` text DEFAULT 'never' NOT NULL,
	`last_failure` text,
	`drift_run_id` integer,
	`drift_summary` text,
	`reconcile_plan_run_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `cloud_projects`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `drift_checks_target` ON `drift_checks` (`guild_id`,`project_id`,`deployment_id`);--> statement-breakpoint
CREATE INDEX `drift_checks_due` ON `drift_checks` (`next_check_at`);