CREATE TABLE `plans_told` (
	`tenant` text NOT NULL,
	`subscription_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`first_event_seq` integer NOT NULL,
	PRIMARY KEY(`subscription_id`, `plan_id`)
);
--> statement-breakpoint
CREATE INDEX `plans_told_plan` ON `plans_told` (`tenant`,`plan_id`);--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `tells_tracked` integer DEFAULT true NOT NULL;--> statement-breakpoint
-- Subscriptions made before this migration were told of plans no row records: they keep the rule of before.
UPDATE `subscriptions` SET `tells_tracked` = false;
