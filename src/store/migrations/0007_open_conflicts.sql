ALTER TABLE `plans` ADD `open_conflicts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `plans_tenant_open_conflicts` ON `plans` (`tenant`,`open_conflicts`);--> statement-breakpoint
-- Plans written before: count their open conflicts from the documents.
UPDATE `plans` SET `open_conflicts` = (SELECT count(*) FROM json_each(`plans`.`document`, '$.conflicts') WHERE json_extract(json_each.value, '$.resolvedAt') IS NULL);
