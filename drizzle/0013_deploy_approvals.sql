CREATE TABLE `deploy_approvals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text NOT NULL,
	`project_id` integer NOT NULL,
	`resource_id` integer NOT NULL,
	`plan_run_id` integer NOT NULL,
	`plan_sha256` text NOT NULL,
	`planned_resources` text NOT NULL,
	`requester_id` text NOT NULL,
	`requester_is_admin` integer NOT NULL,
	`confirmed_by` text NOT NULL,
	`confirmed_by_admin` integer NOT NULL,
	`credential` text,
	`credential_label` text NOT NULL,
	`channel_id` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`requested_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`decided_by` text,
	`decided_at` integer,
	`close_reason` text,
	`notice_status` text,
	`notice_attempts` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `cloud_projects`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`resource_id`) REFERENCES `cloud_resources`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `deploy_approvals_pending_due` ON `deploy_approvals` (`expires_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `deploy_approvals_notice_pending` ON `deploy_approvals` (`notice_status`) WHERE notice_status = 'pending';--> statement-breakpoint
CREATE INDEX `deploy_approvals_resource` ON `deploy_approvals` (`resource_id`);