CREATE TABLE `guild_tiers` (
	`guild_id` text PRIMARY KEY NOT NULL,
	`tier` text NOT NULL,
	`assigned_by` text,
	`assigned_at` integer NOT NULL
);
