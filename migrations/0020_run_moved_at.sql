ALTER TABLE `runs` ADD `moved_at` integer;--> statement-breakpoint
CREATE INDEX `runs_moved` ON `runs` (`status`,`moved_at`);