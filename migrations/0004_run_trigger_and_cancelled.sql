-- API.md's run triggers and statuses: the cron's runs are `schedule`, and a run an admin
-- cancelled is `cancelled` rather than `failed`.
UPDATE `runs` SET `trigger` = 'schedule' WHERE `trigger` = 'cron';--> statement-breakpoint
UPDATE `runs` SET `status` = 'cancelled' WHERE `status` = 'failed' AND `detail` = 'Cancelled by an admin.';
