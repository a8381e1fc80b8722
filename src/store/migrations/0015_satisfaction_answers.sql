CREATE TABLE `satisfaction_answers` (
	`tenant` text NOT NULL,
	`plan_id` text NOT NULL,
	`citizen_id` text NOT NULL,
	`period` text NOT NULL,
	`score` integer NOT NULL,
	`answered_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `plan_id`, `citizen_id`, `period`)
);
--> statement-breakpoint
CREATE INDEX `satisfaction_answers_period` ON `satisfaction_answers` (`tenant`,`period`);