CREATE TABLE `regional_refusals` (
	`tenant` text NOT NULL,
	`citizen_id` text NOT NULL,
	`source` text NOT NULL,
	`record_id` text,
	`record_version` text,
	`reason` text NOT NULL,
	`permits_from` text,
	`recorded_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `citizen_id`, `source`)
);
--> statement-breakpoint
CREATE INDEX `regional_refusals_tenant_permits_from` ON `regional_refusals` (`tenant`,`permits_from`);