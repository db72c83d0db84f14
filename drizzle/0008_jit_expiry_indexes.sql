DROP INDEX `jit_expiry_due`;--> statement-breakpoint
DROP INDEX `jit_member_active`;--> statement-breakpoint
CREATE INDEX `jit_expiry_due` ON `jit_permissions` (`expires_at`) WHERE revoked = 0;--> statement-breakpoint
CREATE INDEX `jit_member_active` ON `jit_permissions` (`guild_id`,`user_id`,`expires_at`);