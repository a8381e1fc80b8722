CREATE TABLE `plan_links` (
	`plan_id` text NOT NULL,
	`owner_tenant` text NOT NULL,
	`linked_tenant` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`linked_tenant`, `plan_id`)
);
--> statement-breakpoint
CREATE TABLE `pulled_citizens` (
	`tenant` text NOT NULL,
	`adapter` text NOT NULL,
	`citizen_id` text NOT NULL,
	`pulled_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `adapter`, `citizen_id`)
);
