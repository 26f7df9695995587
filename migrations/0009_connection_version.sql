ALTER TABLE `integration_credentials` ADD `connection_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `integrations` ADD `connection_version` integer DEFAULT 0 NOT NULL;