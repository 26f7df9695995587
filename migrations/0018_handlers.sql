CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `events_due` ON `events` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `events_integration` ON `events` (`integration_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `handler_logs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`kind` text NOT NULL,
	`event` text,
	`event_id` text,
	`user_id` text,
	`status` text NOT NULL,
	`http_status` integer,
	`duration_ms` integer,
	`attempt` integer,
	`next_attempt_at` integer,
	`detail` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `handler_logs_integration` ON `handler_logs` (`integration_id`,`id`);--> statement-breakpoint
CREATE INDEX `handler_logs_at` ON `handler_logs` (`at`);--> statement-breakpoint
ALTER TABLE `integrations` ADD `after_gone_streak` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `integrations` ADD `after_disabled_reason` text;