CREATE TABLE `__new_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`integration_id` text,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`user_ids` text,
	`page` integer DEFAULT 0 NOT NULL,
	`cursor` text,
	`approved` integer DEFAULT 0 NOT NULL,
	`removals` integer DEFAULT 0 NOT NULL,
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
INSERT INTO `__new_runs`("id", "tenant_id", "integration_id", "kind", "status", "trigger", "user_ids", "page", "cursor", "approved", "removals", "created", "updated", "unchanged", "disabled", "excluded", "failed", "linked", "unmatched", "detail", "started_at", "finished_at") SELECT "id", "tenant_id", "integration_id", "kind", "status", "trigger", "user_ids", "page", "cursor", "approved", "removals", "created", "updated", "unchanged", "disabled", "excluded", "failed", "linked", "unmatched", "detail", "started_at", "finished_at" FROM `runs`;--> statement-breakpoint
DROP TABLE `runs`;--> statement-breakpoint
ALTER TABLE `__new_runs` RENAME TO `runs`;--> statement-breakpoint
CREATE INDEX `runs_integration` ON `runs` (`integration_id`,`kind`,`status`);--> statement-breakpoint
CREATE INDEX `runs_tenant` ON `runs` (`tenant_id`,`started_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `runs_one_open` ON `runs` (`integration_id`,`kind`,`removals`) WHERE status in ('running', 'held');