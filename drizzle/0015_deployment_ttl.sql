CREATE TABLE `deployment_ttl_reminders` (
	`resource_id` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`lead_ms` integer NOT NULL,
	`guild_id` text NOT NULL,
	`user_id` text NOT NULL,
	`queued_at` integer NOT NULL,
	`dm_status` text DEFAULT 'pending' NOT NULL,
	`channel_status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`error` text,
	`finished_at` integer,
	PRIMARY KEY(`resource_id`, `expires_at`, `lead_ms`),
	FOREIGN KEY (`resource_id`) REFERENCES `cloud_resources`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `ttl_reminders_unfinished` ON `deployment_ttl_reminders` (`resource_id`) WHERE finished_at IS NULL;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `ttl_ms` integer;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `expires_at` integer;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `ttl_set_at` integer;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `ttl_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `ttl_next_attempt_at` integer;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `ttl_last_error` text;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `expired_at` integer;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `ttl_notice_status` text;--> statement-breakpoint
CREATE INDEX `cloud_resources_ttl_due` ON `cloud_resources` (`expires_at`) WHERE expires_at IS NOT NULL AND expired_at IS NULL;--> statement-breakpoint
CREATE INDEX `cloud_resources_ttl_next_try` ON `cloud_resources` (`ttl_next_attempt_at`) WHERE ttl_next_attempt_at IS NOT NULL AND expired_at IS NULL;--> statement-breakpoint
CREATE INDEX `cloud_resources_ttl_notice` ON `cloud_resources` (`ttl_notice_status`) WHERE ttl_notice_status = 'pending';--> statement-breakpoint
ALTER TABLE `guild_policies` ADD `default_ttl_minutes` integer;--> statement-breakpoint
ALTER TABLE `guild_policies` ADD `max_ttl_minutes` integer;