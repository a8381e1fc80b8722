-- Where a bounded catch-up goes on next run, per municipality and adapter (decision 0003, "Later (2026-11-24)").
CREATE TABLE `catch_up_positions` (
	`tenant` text NOT NULL,
	`adapter` text NOT NULL,
	`resume_from` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `adapter`)
);
