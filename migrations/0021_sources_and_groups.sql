CREATE TABLE `group_members` (
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`user_id` text NOT NULL,
	`group_name` text NOT NULL,
	`added_at` integer NOT NULL,
	PRIMARY KEY(`integration_id`, `user_id`, `group_name`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`integration_id`) REFERENCES `integrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `group_members_group` ON `group_members` (`integration_id`,`group_name`);--> statement-breakpoint
CREATE TABLE `provider_calls` (
	`integration_id` text NOT NULL,
	`at` integer NOT NULL,
	FOREIGN KEY (`integration_id`) REFERENCES `integrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `provider_calls_at` ON `provider_calls` (`integration_id`,`at`);--> statement-breakpoint
CREATE TABLE `remote_groups` (
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`name` text NOT NULL,
	`remote_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`integration_id`, `name`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`integration_id`) REFERENCES `integrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `integrations` ADD `pull_due_at` integer;--> statement-breakpoint
ALTER TABLE `integrations` ADD `full_pull_due_at` integer;--> statement-breakpoint
ALTER TABLE `integrations` ADD `pull_cursor` integer;--> statement-breakpoint
ALTER TABLE `integrations` ADD `receives_pushes` integer DEFAULT true NOT NULL;--> statement-breakpoint
UPDATE `integrations` SET `receives_pushes` = 0 WHERE `provider` = 'zoho-people';
