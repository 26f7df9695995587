CREATE TABLE `import_mappings` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`mapping` text NOT NULL,
	`mode` text NOT NULL,
	`max_disable_percent` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
