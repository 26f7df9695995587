-- Keys are only kept while a plan is made; those written before rows were numbered could not take the unique index.
DELETE FROM `import_keys`;--> statement-breakpoint
ALTER TABLE `import_keys` ADD `row` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `import_keys_row` ON `import_keys` (`plan_id`,`kind`,`row`);--> statement-breakpoint
ALTER TABLE `imports` ADD `plan_id` text;--> statement-breakpoint
ALTER TABLE `imports` ADD `plan_step` integer;--> statement-breakpoint
ALTER TABLE `imports` ADD `plan_moved_at` integer;