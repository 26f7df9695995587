-- At most one open run of a kind per integration. Runs that a concurrent start opened
-- beside another (the race this index closes) are closed first, keeping the newest.
UPDATE `runs` SET `status` = 'failed', `detail` = 'Closed: another run of this kind was open at the same time.', `finished_at` = `started_at`
WHERE `status` IN ('running', 'held') AND EXISTS (
  SELECT 1 FROM `runs` AS `newer`
  WHERE `newer`.`integration_id` = `runs`.`integration_id` AND `newer`.`kind` = `runs`.`kind` AND `newer`.`status` IN ('running', 'held')
    AND (`newer`.`started_at` > `runs`.`started_at` OR (`newer`.`started_at` = `runs`.`started_at` AND `newer`.`id` > `runs`.`id`))
);--> statement-breakpoint
CREATE UNIQUE INDEX `runs_one_open` ON `runs` (`integration_id`,`kind`) WHERE status in ('running', 'held');
