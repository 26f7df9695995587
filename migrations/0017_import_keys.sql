CREATE TABLE `import_keys` (
	`plan_id` text NOT NULL,
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`key_lower` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `import_keys_key` ON `import_keys` (`plan_id`,`kind`,`key`);--> statement-breakpoint
CREATE INDEX `import_keys_lower` ON `import_keys` (`plan_id`,`kind`,`key_lower`);--> statement-breakpoint
CREATE INDEX `import_keys_created` ON `import_keys` (`created_at`);