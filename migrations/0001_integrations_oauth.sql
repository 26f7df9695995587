CREATE TABLE `integration_credentials` (
	`integration_id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`access_token_enc` text NOT NULL,
	`refresh_token_enc` text,
	`access_expires_at` integer NOT NULL,
	`token_version` integer DEFAULT 1 NOT NULL,
	`lease_id` text,
	`lease_until` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`integration_id`) REFERENCES `integrations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `oauth_states` (
	`nonce` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`code_verifier_enc` text,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `oauth_states_expires` ON `oauth_states` (`expires_at`);--> statement-breakpoint
ALTER TABLE `integrations` ADD `connection` text;--> statement-breakpoint
ALTER TABLE `integrations` ADD `last_error` text;