-- Templates (#12): a resource row is a deployment of a template. The built-ins keep their resource_type (vm,
-- bucket) and name the template after it; a deployment of a guild's or the operator's template has resource_type
-- 'template', its own workspace folder inside the project's, and its non-sensitive inputs (sensitive ones are only
-- declared here, never valued: their values live in the project's vault session).
ALTER TABLE `cloud_resources` ADD `template` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `template_revision` text;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `inputs` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `sensitive_inputs` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `cloud_resources` ADD `workspace` text;--> statement-breakpoint
-- Every row so far is a built-in: its template is its type.
UPDATE `cloud_resources` SET `template` = `resource_type` WHERE `template` = '';
