CREATE TABLE `sync_run_tallies` (
	`tenant` text NOT NULL,
	`adapter` text NOT NULL,
	`status` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`tenant`, `adapter`, `status`)
);
