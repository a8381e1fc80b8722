-- A source's own consent to share that permits until a last day, per citizen: the nightly job ends it
-- after that day though nothing at the source changed (decision 0004, "Later (2026-11-24)").
CREATE TABLE `regional_consent_ends` (
	`tenant` text NOT NULL,
	`citizen_id` text NOT NULL,
	`source` text NOT NULL,
	`record_id` text NOT NULL,
	`record_version` text NOT NULL,
	`last_day` text NOT NULL,
	`recorded_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `citizen_id`, `source`)
);
--> statement-breakpoint
CREATE INDEX `regional_consent_ends_tenant_last_day` ON `regional_consent_ends` (`tenant`,`last_day`);