CREATE INDEX `audit_log_guild_action` ON `audit_log` (`guild_id`,`action`,`created_at`);--> statement-breakpoint
CREATE INDEX `audit_log_guild_user` ON `audit_log` (`guild_id`,`user_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `cloud_resources_status` ON `cloud_resources` (`status`);--> statement-breakpoint
CREATE INDEX `iac_runs_guild_status` ON `iac_runs` (`guild_id`,`status`);