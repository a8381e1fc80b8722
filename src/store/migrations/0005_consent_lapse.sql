ALTER TABLE `consents` ADD `valid_to` text;--> statement-breakpoint
ALTER TABLE `consents` ADD `lapse_handled_at` text;--> statement-breakpoint
CREATE INDEX `consents_tenant_valid_to` ON `consents` (`tenant`,`valid_to`);--> statement-breakpoint
-- Existing grants and legal bases carry their last valid day in the document only.
UPDATE `consents` SET `valid_to` = json_extract(`document`, '$.validTo') WHERE json_extract(`document`, '$.validTo') IS NOT NULL;
