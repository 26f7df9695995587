CREATE TABLE `directory_tombstones` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`status` text NOT NULL,
	`source_updated_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`),
	FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `directory_tombstones_created` ON `directory_tombstones` (`created_at`);