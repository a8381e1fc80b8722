-- Which of our elements a target's record holds, written with each delivery that put one there: the
-- next pull maps the record onto that element, not a second one (decision 0005, "Later (2026-11-24)").
-- Keyed by citizen first, so a sync chunk finds its citizens' rows in one indexed read.
CREATE TABLE `held_elements` (
	`tenant` text NOT NULL,
	`citizen_id` text NOT NULL,
	`target` text NOT NULL,
	`target_element_id` text NOT NULL,
	`element_id` text NOT NULL,
	`outbox_id` text NOT NULL,
	`recorded_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `citizen_id`, `target`, `target_element_id`)
);
