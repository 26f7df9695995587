DROP INDEX `sync_logs_removals`;--> statement-breakpoint
CREATE INDEX `sync_logs_removals` ON `sync_logs` (`integration_id`,`at`) WHERE action in ('delete', 'disable') and status = 'ok';