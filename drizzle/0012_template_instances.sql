-- Template deployments (#12) may stand for several compute instances, or none: each row says how many it has, and
-- the guild's totals sum them, so `max_instances` counts the VMs of every deployment, built-in or template.
ALTER TABLE `cloud_resources` ADD `compute_instances` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `guild_resource_totals` ADD `compute_instances` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `jit_guild_expiry` ON `jit_permissions` (`guild_id`,`expires_at`);--> statement-breakpoint
-- Written by hand below (drizzle-kit does not model triggers): keep it when regenerating migrations.
-- The triggers of 0007_resource_totals, now also summing compute_instances (and following its changes).
DROP TRIGGER `cloud_resources_totals_insert`;--> statement-breakpoint
DROP TRIGGER `cloud_resources_totals_update`;--> statement-breakpoint
DROP TRIGGER `cloud_resources_totals_delete`;--> statement-breakpoint
-- Every built-in VM so far is one instance. A template deployment's VMs are read from the Terraform addresses its
-- plan recorded (`google_compute_instance.web[0]`, `module.m.aws_instance.x`): the VM types of
-- src/policy/planned-resources.ts.
UPDATE `cloud_resources` SET `compute_instances` = 1 WHERE `resource_type` = 'vm';--> statement-breakpoint
UPDATE `cloud_resources` SET `compute_instances` = (
	SELECT count(*) FROM json_each(`cloud_resources`.`addresses`) AS `address`
	WHERE `address`.`value` GLOB 'google_compute_instance.*' OR `address`.`value` GLOB '*.google_compute_instance.*'
		OR `address`.`value` GLOB 'aws_instance.*' OR `address`.`value` GLOB '*.aws_instance.*'
		OR `address`.`value` GLOB 'azurerm_linux_virtual_machine.*' OR `address`.`value` GLOB '*.azurerm_linux_virtual_machine.*'
		OR `address`.`value` GLOB 'azurerm_windows_virtual_machine.*' OR `address`.`value` GLOB '*.azurerm_windows_virtual_machine.*'
		OR `address`.`value` GLOB 'azurerm_virtual_machine.*' OR `address`.`value` GLOB '*.azurerm_virtual_machine.*'
) WHERE `resource_type` = 'template' AND json_valid(`addresses`);--> statement-breakpoint
CREATE TRIGGER `cloud_resources_totals_insert` AFTER INSERT ON `cloud_resources` BEGIN
	INSERT INTO `guild_resource_totals` (`guild_id`, `status`, `resource_type`, `resources`, `monthly_usd`, `compute_instances`)
	VALUES (new.`guild_id`, new.`status`, new.`resource_type`, 1, new.`estimated_monthly_cost`, new.`compute_instances`)
	ON CONFLICT (`guild_id`, `status`, `resource_type`)
	DO UPDATE SET `resources` = `resources` + 1, `monthly_usd` = `monthly_usd` + excluded.`monthly_usd`,
		`compute_instances` = `compute_instances` + excluded.`compute_instances`;
END;
--> statement-breakpoint
CREATE TRIGGER `cloud_resources_totals_update` AFTER UPDATE OF `guild_id`, `status`, `resource_type`, `estimated_monthly_cost`, `compute_instances` ON `cloud_resources` BEGIN
	UPDATE `guild_resource_totals`
	SET `resources` = `resources` - 1,
		`monthly_usd` = CASE WHEN `resources` = 1 THEN 0 ELSE `monthly_usd` - old.`estimated_monthly_cost` END,
		`compute_instances` = CASE WHEN `resources` = 1 THEN 0 ELSE `compute_instances` - old.`compute_instances` END
	WHERE `guild_id` = old.`guild_id` AND `status` = old.`status` AND `resource_type` = old.`resource_type`;
	INSERT INTO `guild_resource_totals` (`guild_id`, `status`, `resource_type`, `resources`, `monthly_usd`, `compute_instances`)
	VALUES (new.`guild_id`, new.`status`, new.`resource_type`, 1, new.`estimated_monthly_cost`, new.`compute_instances`)
	ON CONFLICT (`guild_id`, `status`, `resource_type`)
	DO UPDATE SET `resources` = `resources` + 1, `monthly_usd` = `monthly_usd` + excluded.`monthly_usd`,
		`compute_instances` = `compute_instances` + excluded.`compute_instances`;
END;
--> statement-breakpoint
CREATE TRIGGER `cloud_resources_totals_delete` AFTER DELETE ON `cloud_resources` BEGIN
	UPDATE `guild_resource_totals`
	SET `resources` = `resources` - 1,
		`monthly_usd` = CASE WHEN `resources` = 1 THEN 0 ELSE `monthly_usd` - old.`estimated_monthly_cost` END,
		`compute_instances` = CASE WHEN `resources` = 1 THEN 0 ELSE `compute_instances` - old.`compute_instances` END
	WHERE `guild_id` = old.`guild_id` AND `status` = old.`status` AND `resource_type` = old.`resource_type`;
END;
--> statement-breakpoint
-- The totals again from the rows, now with their instances.
DELETE FROM `guild_resource_totals`;--> statement-breakpoint
INSERT INTO `guild_resource_totals` (`guild_id`, `status`, `resource_type`, `resources`, `monthly_usd`, `compute_instances`)
SELECT `guild_id`, `status`, `resource_type`, count(*), coalesce(sum(`estimated_monthly_cost`), 0), coalesce(sum(`compute_instances`), 0)
FROM `cloud_resources` GROUP BY `guild_id`, `status`, `resource_type`;
