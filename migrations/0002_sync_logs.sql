CREATE TABLE `sync_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`user_id` text,
	`action` text NOT NULL,
	`status` text NOT NULL,
	`remote_id` text,
	`detail` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sync_logs_integration` ON `sync_logs` (`integration_id`,`at`);--> statement-breakpoint
CREATE INDEX `sync_logs_user` ON `sync_logs` (`integration_id`,`user_id`);--> statement-breakpoint
ALTER TABLE `integrations` ADD `paused_until` integer;--> statement-breakpoint
ALTER TABLE `links` ADD `failure_kind` text;