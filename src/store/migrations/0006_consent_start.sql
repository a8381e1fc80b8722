ALTER TABLE `consents` ADD `valid_from` text;--> statement-breakpoint
ALTER TABLE `consents` ADD `start_handled_at` text;--> statement-breakpoint
CREATE INDEX `consents_tenant_valid_from` ON `consents` (`tenant`,`valid_from`);--> statement-breakpoint
-- Existing grants: the first valid day from the document; a grant valid on the day it was recorded
-- took effect then (the consent service re-reads the citizen on every new grant). One dated to start
-- later is left for the nightly job, which re-reads its citizen once (even if its day has passed).
UPDATE `consents` SET `valid_from` = json_extract(`document`, '$.validFrom'), `start_handled_at` = CASE WHEN json_extract(`document`, '$.validFrom') <= substr(`created_at`, 1, 10) THEN `created_at` END WHERE `kind` = 'grant';
