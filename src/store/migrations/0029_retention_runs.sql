CREATE TABLE `retention_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`status` text NOT NULL,
	`started_at` text NOT NULL,
	`ended_at` text,
	`summary` text NOT NULL,
	`backlog` text NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `retention_runs_tenant_started` ON `retention_runs` (`tenant`,`started_at`);