CREATE TABLE `budget_holds` (
	`guild_id` text NOT NULL,
	`resource_id` integer NOT NULL,
	`monthly_usd` real NOT NULL,
	`vms` integer NOT NULL,
	`owner` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`guild_id`, `resource_id`)
);
--> statement-breakpoint
CREATE INDEX `budget_holds_owner` ON `budget_holds` (`owner`);--> statement-breakpoint
CREATE TABLE `workspace_leases` (
	`guild_id` text NOT NULL,
	`workspace` text NOT NULL,
	`run_id` integer NOT NULL,
	`kind` text NOT NULL,
	`started_by` text NOT NULL,
	`since` integer NOT NULL,
	`owner` text NOT NULL,
	`token` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`guild_id`, `workspace`)
);
--> statement-breakpoint
CREATE INDEX `workspace_leases_owner` ON `workspace_leases` (`owner`);