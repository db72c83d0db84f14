-- The member filter's index without the janitor's entries (user "system", thousands a tick): each index on
-- audit_log roughly doubles what the janitor's bulk audit writes cost, and no one can filter on "system" from
-- /cloud-audit. AuditLog.recent writes `user_id <> 'system'` in its query so SQLite sees this index applies.
DROP INDEX `audit_log_guild_user`;--> statement-breakpoint
CREATE INDEX `audit_log_guild_member` ON `audit_log` (`guild_id`,`user_id`,`created_at`) WHERE user_id <> 'system';