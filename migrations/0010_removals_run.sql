DROP INDEX `runs_one_open`;--> statement-breakpoint
ALTER TABLE `runs` ADD `removals` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `runs_one_open` ON `runs` (`integration_id`,`kind`,`removals`) WHERE status in ('running', 'held');