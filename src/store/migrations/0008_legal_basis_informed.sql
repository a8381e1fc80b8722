ALTER TABLE `consents` ADD `informed_at` text;--> statement-breakpoint
CREATE INDEX `consents_tenant_kind_informed` ON `consents` (`tenant`,`kind`,`informed_at`,`created_at`);--> statement-breakpoint
-- Legal-basis records written before: when the citizen was told is in the document.
UPDATE `consents` SET `informed_at` = json_extract(`document`, '$.informedAt') WHERE `kind` = 'legal-basis';
