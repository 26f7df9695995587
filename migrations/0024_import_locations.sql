CREATE TABLE `import_locations` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`endpoint` text NOT NULL,
	`region` text NOT NULL,
	`bucket` text NOT NULL,
	`prefix` text NOT NULL,
	`access_key_id` text NOT NULL,
	`secret` text NOT NULL,
	`every_minutes` integer NOT NULL,
	`next_due_at` integer NOT NULL,
	`last_pickup_at` integer,
	`last_error` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `imports` ADD `source_key` text;