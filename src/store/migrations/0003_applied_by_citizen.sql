PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_applied_records` (
	`tenant` text NOT NULL,
	`citizen_id` text NOT NULL,
	`source` text NOT NULL,
	`record_id` text NOT NULL,
	`record_version` text NOT NULL,
	`plan_id` text NOT NULL,
	`applied_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `citizen_id`, `source`, `record_id`, `record_version`)
);
--> statement-breakpoint
-- Marks are now kept per citizen: each is given the citizens of the plan it was merged into. Marks of
-- quarantined versions (plan '-') are dropped: such a version is quarantined once more, at most.
INSERT OR IGNORE INTO `__new_applied_records`("tenant", "citizen_id", "source", "record_id", "record_version", "plan_id", "applied_at") SELECT a."tenant", m."citizen_id", a."source", a."record_id", a."record_version", a."plan_id", a."applied_at" FROM `applied_records` a JOIN `plan_members` m ON m."tenant" = a."tenant" AND m."plan_id" = a."plan_id";--> statement-breakpoint
DROP TABLE `applied_records`;--> statement-breakpoint
ALTER TABLE `__new_applied_records` RENAME TO `applied_records`;--> statement-breakpoint
PRAGMA foreign_keys=ON;