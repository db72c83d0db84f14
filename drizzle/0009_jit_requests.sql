CREATE TABLE `jit_expiry_reminders` (
	`grant_id` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`guild_id` text NOT NULL,
	`user_id` text NOT NULL,
	`queued_at` integer NOT NULL,
	`dm_status` text DEFAULT 'pending' NOT NULL,
	`channel_status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`error` text,
	`finished_at` integer,
	PRIMARY KEY(`grant_id`, `expires_at`),
	FOREIGN KEY (`grant_id`) REFERENCES `jit_permissions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `jit_reminders_unfinished` ON `jit_expiry_reminders` (`grant_id`) WHERE finished_at IS NULL;--> statement-breakpoint
CREATE TABLE `jit_requests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text NOT NULL,
	`kind` text NOT NULL,
	`requester_id` text NOT NULL,
	`provider` text NOT NULL,
	`permission_level` text NOT NULL,
	`duration_minutes` integer NOT NULL,
	`reason` text NOT NULL,
	`grant_id` integer,
	`review_channel_id` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`decided_by` text,
	`decided_at` integer,
	`approved_minutes` integer,
	`decision_note` text,
	`notice_status` text,
	`notice_attempts` integer DEFAULT 0 NOT NULL,
	`notice_error` text,
	`notified_at` integer,
	FOREIGN KEY (`grant_id`) REFERENCES `jit_permissions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `jit_requests_guild_status` ON `jit_requests` (`guild_id`,`status`,`requester_id`);--> statement-breakpoint
CREATE INDEX `jit_requests_pending_due` ON `jit_requests` (`expires_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `jit_requests_notice_pending` ON `jit_requests` (`notice_status`) WHERE notice_status = 'pending';--> statement-breakpoint
CREATE INDEX `jit_requests_grant` ON `jit_requests` (`grant_id`);--> statement-breakpoint
ALTER TABLE `guild_policies` ADD `jit_self_extend_minutes` integer DEFAULT 0 NOT NULL;