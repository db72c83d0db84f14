CREATE TABLE `guild_template_enablements` (
	`guild_id` text NOT NULL,
	`template_id` integer NOT NULL,
	`enabled_by` text NOT NULL,
	`enabled_at` integer NOT NULL,
	PRIMARY KEY(`guild_id`, `template_id`),
	FOREIGN KEY (`template_id`) REFERENCES `templates`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `templates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`guild_id` text,
	`name` text NOT NULL,
	`source` text NOT NULL,
	`description` text,
	`git_url` text,
	`git_subdir` text,
	`git_ref` text,
	`pinned_revision` text NOT NULL,
	`files_digest` text NOT NULL,
	`variables` text DEFAULT '[]' NOT NULL,
	`missing_since` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_by` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `templates_guild_name` ON `templates` (`guild_id`,`name`) WHERE guild_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `templates_operator_name` ON `templates` (`name`) WHERE guild_id IS NULL;