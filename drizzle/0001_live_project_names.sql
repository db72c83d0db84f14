DROP INDEX `cloud_projects_guild_slug`;--> statement-breakpoint
DROP INDEX `cloud_projects_guild_name`;--> statement-breakpoint
CREATE UNIQUE INDEX `cloud_projects_guild_slug_live` ON `cloud_projects` (`guild_id`,`slug`) WHERE status = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX `cloud_projects_guild_name_live` ON `cloud_projects` (`guild_id`,`name`) WHERE status = 'active';