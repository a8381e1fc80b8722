CREATE TABLE `consent_texts` (
	`tenant` text NOT NULL,
	`version` text NOT NULL,
	`language` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`created_at` text NOT NULL,
	`created_by` text NOT NULL,
	PRIMARY KEY(`tenant`, `version`, `language`)
);
