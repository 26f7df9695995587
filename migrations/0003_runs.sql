CREATE TABLE `remote_unmatched` (
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`remote_id` text NOT NULL,
	`email` text,
	`name` text,
	`remote_url` text,
	`run_id` text NOT NULL,
	PRIMARY KEY(`integration_id`, `remote_id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`integration_id`) REFERENCES `integrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`user_ids` text,
	`page` integer DEFAULT 0 NOT NULL,
	`cursor` text,
	`approved` integer DEFAULT 0 NOT NULL,
	`created` integer DEFAULT 0 NOT NULL,
	`updated` integer DEFAULT 0 NOT NULL,
	`unchanged` integer DEFAULT 0 NOT NULL,
	`disabled` integer DEFAULT 0 NOT NULL,
	`excluded` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`linked` integer DEFAULT 0 NOT NULL,
	`unmatched` integer DEFAULT 0 NOT NULL,
	`detail` text,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runs_integration` ON `runs` (`integration_id`,`kind`,`status`);--> statement-breakpoint
CREATE INDEX `runs_tenant` ON `runs` (`tenant_id`,`started_at`);--> statement-breakpoint
DROP INDEX `sync_logs_integration`;--> statement-breakpoint
CREATE INDEX `sync_logs_integration` ON `sync_logs` (`integration_id`,`id`);--> statement-breakpoint
ALTER TABLE `integrations` ADD `resync_due_at` integer;--> statement-breakpoint
ALTER TABLE `integrations` ADD `reconcile_due_at` integer;--> statement-breakpoint
ALTER TABLE `links` ADD `manual` text;