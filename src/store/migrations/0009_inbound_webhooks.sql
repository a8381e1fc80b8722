CREATE TABLE `inbound_webhooks` (
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
	PRIMARY KEY(`source`, `webhook_id`)
);
--> statement-breakpoint
CREATE INDEX `inbound_webhooks_waiting` ON `inbound_webhooks` (`status`,`tenant`,`source`,`received_at`);--> statement-breakpoint
CREATE INDEX `inbound_webhooks_tenant_received` ON `inbound_webhooks` (`tenant`,`received_at`);