CREATE TABLE `guild_resource_totals` (
	`guild_id` text NOT NULL,
	`status` text NOT NULL,
	`resource_type` text NOT NULL,
	`resources` integer NOT NULL,
	`monthly_usd` real NOT NULL,
	PRIMARY KEY(`guild_id`, `status`, `resource_type`)
);
--> statement-breakpoint
-- Written by hand below (drizzle-kit does not model triggers): keep it when regenerating migrations.
-- The totals follow every insert, update and delete of cloud_resources in the same statement, so they can never
-- disagree with the rows, whichever process or code path writes them. A count back at 0 resets its sum to exactly
-- 0, so floating-point remainders do not pile up over years of creates and destroys.
CREATE TRIGGER `cloud_resources_totals_insert` AFTER INSERT ON `cloud_resources` BEGIN
	INSERT INTO `guild_resource_totals` (`guild_id`, `status`, `resource_type`, `resources`, `monthly_usd`)
	VALUES (new.`guild_id`, new.`status`, new.`resource_type`, 1, new.`estimated_monthly_cost`)
	ON CONFLICT (`guild_id`, `status`, `resource_type`)
	DO UPDATE SET `resources` = `resources` + 1, `monthly_usd` = `monthly_usd` + excluded.`monthly_usd`;
END;
--> statement-breakpoint
CREATE TRIGGER `cloud_resources_totals_update` AFTER UPDATE OF `guild_id`, `status`, `resource_type`, `estimated_monthly_cost` ON `cloud_resources` BEGIN
	UPDATE `guild_resource_totals`
	SET `resources` = `resources` - 1,
		`monthly_usd` = CASE WHEN `resources` = 1 THEN 0 ELSE `monthly_usd` - old.`estimated_monthly_cost` END
	WHERE `guild_id` = old.`guild_id` AND `status` = old.`status` AND `resource_type` = old.`resource_type`;
	INSERT INTO `guild_resource_totals` (`guild_id`, `status`, `resource_type`, `resources`, `monthly_usd`)
	VALUES (new.`guild_id`, new.`status`, new.`resource_type`, 1, new.`estimated_monthly_cost`)
	ON CONFLICT (`guild_id`, `status`, `resource_type`)
	DO UPDATE SET `resources` = `resources` + 1, `monthly_usd` = `monthly_usd` + excluded.`monthly_usd`;
END;
--> statement-breakpoint
CREATE TRIGGER `cloud_resources_totals_delete` AFTER DELETE ON `cloud_resources` BEGIN
	UPDATE `guild_resource_totals`
	SET `resources` = `resources` - 1,
		`monthly_usd` = CASE WHEN `resources` = 1 THEN 0 ELSE `monthly_usd` - old.`estimated_monthly_cost` END
	WHERE `guild_id` = old.`guild_id` AND `status` = old.`status` AND `resource_type` = old.`resource_type`;
END;
--> statement-breakpoint
-- The resources a database already holds when it is upgraded.
INSERT INTO `guild_resource_totals` (`guild_id`, `status`, `resource_type`, `resources`, `monthly_usd`)
SELECT `guild_id`, `status`, `resource_type`, count(*), coalesce(sum(`estimated_monthly_cost`), 0)
FROM `cloud_resources` GROUP BY `guild_id`, `status`, `resource_type`;
