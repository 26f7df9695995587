CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_tenant` ON `api_keys` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `directory_users` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`email` text NOT NULL,
	`email_lower` text NOT NULL,
	`first_name` text,
	`last_name` text,
	`status` text NOT NULL,
	`profile` text DEFAULT '{}' NOT NULL,
	`version` integer NOT NULL,
	`source_updated_at` integer NOT NULL,
	`needs_push` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `directory_users_email` ON `directory_users` (`tenant_id`,`email_lower`);--> statement-breakpoint
CREATE INDEX `directory_users_needs_push` ON `directory_users` (`tenant_id`,`needs_push`);--> statement-breakpoint
CREATE TABLE `integrations` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`provider` text NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`pending_actions` text DEFAULT '[]' NOT NULL,
	`config` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `integrations_tenant` ON `integrations` (`tenant_id`,`status`);--> statement-breakpoint
CREATE TABLE `links` (
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`user_id` text NOT NULL,
	`remote_id` text,
	`remote_url` text,
	`status` text NOT NULL,
	`payload_hash` text,
	`pushed_version` integer,
	`last_error` text,
	`last_synced_at` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`integration_id`, `user_id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`integration_id`) REFERENCES `integrations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `links_remote` ON `links` (`integration_id`,`remote_id`) WHERE "links"."remote_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `links_tenant_user` ON `links` (`tenant_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `links_status` ON `links` (`integration_id`,`status`);--> statement-breakpoint
CREATE TABLE `tenant_secrets` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`kind` text NOT NULL,
	`value_enc` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tenant_secrets_tenant_kind` ON `tenant_secrets` (`tenant_id`,`kind`);--> statement-breakpoint
CREATE TABLE `tenants` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`tenant_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`type` text NOT NULL,
	`user_id` text NOT NULL,
	`outcome` text NOT NULL,
	`body` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `webhook_id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_events_received` ON `webhook_events` (`received_at`);