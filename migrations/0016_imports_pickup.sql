ALTER TABLE `imports` ADD `pickup_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `imports_pickup` ON `imports` (`pickup_key`);