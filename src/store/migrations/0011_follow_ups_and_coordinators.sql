ALTER TABLE `plans` ADD `next_follow_up` text;--> statement-breakpoint
ALTER TABLE `plans` ADD `coordinator_name` text;--> statement-breakpoint
CREATE INDEX `plans_tenant_next_follow_up` ON `plans` (`tenant`,`next_follow_up`);--> statement-breakpoint
-- Plans written before: the earliest open follow-up and the coordinator, from their documents.
UPDATE `plans` SET `next_follow_up` = (SELECT min(json_extract(json_each.value, '$.due')) FROM json_each(`plans`.`document`, '$.followUps') WHERE coalesce(json_extract(json_each.value, '$.done'), 0) = 0), `coordinator_name` = json_extract(`plans`.`document`, '$.coordinator.name');
