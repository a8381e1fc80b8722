-- Inbound notices are deduplicated per municipality: vendors of one source (social: Nexus in one
-- municipality, Cura in another) choose their webhook ids apart, so (source, id) alone made one
-- municipality's notice a duplicate of another's, and no sync was asked for it.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_inbound_webhooks` (
	`source` text NOT NULL,
	`webhook_id` text NOT NULL,
	`tenant` text NOT NULL,
	`event_type` text NOT NULL,
	`body` text,
	`received_at` text NOT NULL,
	`status` text NOT NULL,
	`claimed_until` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`run_id` text,
	`processed_at` text,
	`last_error` text,
	PRIMARY KEY(`tenant`, `source`, `webhook_id`)
);
--> statement-breakpoint
INSERT INTO `__new_inbound_webhooks`("source", "webhook_id", "tenant", "event_type", "body", "received_at", "status", "claimed_until", "attempts", "run_id", "processed_at", "last_error") SELECT "source", "webhook_id", "tenant", "event_type", "body", "received_at", "status", "claimed_until", "attempts", "run_id", "processed_at", "last_error" FROM `inbound_webhooks`;--> statement-breakpoint
DROP TABLE `inbound_webhooks`;--> statement-breakpoint
ALTER TABLE `__new_inbound_webhooks` RENAME TO `inbound_webhooks`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `inbound_webhooks_waiting` ON `inbound_webhooks` (`status`,`tenant`,`source`,`received_at`);--> statement-breakpoint
CREATE INDEX `inbound_webhooks_tenant_received` ON `inbound_webhooks` (`tenant`,`received_at`);