CREATE TABLE `events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tenant` text NOT NULL,
	`type` text NOT NULL,
	`data` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `subscription_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`subscription_id` text NOT NULL,
	`event_seq` integer NOT NULL,
	`type` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text NOT NULL,
	`last_error` text,
	`last_status_code` integer,
	`created_at` text NOT NULL,
	`delivered_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscription_deliveries_once` ON `subscription_deliveries` (`subscription_id`,`event_seq`);--> statement-breakpoint
CREATE INDEX `subscription_deliveries_due` ON `subscription_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `subscription_deliveries_of` ON `subscription_deliveries` (`tenant`,`subscription_id`,`created_at`);--> statement-breakpoint
DROP TABLE `inbound_events`;--> statement-breakpoint
-- The foundation's placeholder tables were never written (no code used them): replaced, not altered.
DROP TABLE `subscriptions`;--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`url` text NOT NULL,
	`secret_sealed` text NOT NULL,
	`events` text NOT NULL,
	`description` text,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`disabled_at` text,
	`disabled_reason` text
);
--> statement-breakpoint
CREATE INDEX `subscriptions_tenant` ON `subscriptions` (`tenant`,`disabled_at`);--> statement-breakpoint
-- Events for subscriptions, written by the database itself on every plan and delivery write a
-- subscriber may care about, and only while the tenant has an active subscription.
CREATE TRIGGER `events_plan_created` AFTER INSERT ON `plans`
WHEN EXISTS (SELECT 1 FROM `subscriptions` WHERE `tenant` = NEW.`tenant` AND `disabled_at` IS NULL)
BEGIN
  INSERT INTO `events` (`tenant`, `type`, `data`, `at`)
  VALUES (NEW.`tenant`, 'plan.created', json_object('planId', NEW.`id`, 'version', NEW.`version`, 'status', NEW.`status`), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
--> statement-breakpoint
CREATE TRIGGER `events_plan_changed` AFTER UPDATE OF `version` ON `plans`
WHEN NEW.`version` <> OLD.`version` AND EXISTS (SELECT 1 FROM `subscriptions` WHERE `tenant` = NEW.`tenant` AND `disabled_at` IS NULL)
BEGIN
  INSERT INTO `events` (`tenant`, `type`, `data`, `at`)
  VALUES (NEW.`tenant`, 'plan.changed', json_object('planId', NEW.`id`, 'version', NEW.`version`, 'status', NEW.`status`, 'previousStatus', OLD.`status`), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
--> statement-breakpoint
CREATE TRIGGER `events_delivery_dead` AFTER UPDATE OF `status` ON `outbox`
WHEN NEW.`status` = 'dead' AND OLD.`status` <> 'dead' AND EXISTS (SELECT 1 FROM `subscriptions` WHERE `tenant` = NEW.`tenant` AND `disabled_at` IS NULL)
BEGIN
  INSERT INTO `events` (`tenant`, `type`, `data`, `at`)
  VALUES (NEW.`tenant`, 'delivery.dead', json_object('outboxId', NEW.`id`, 'registrationId', NEW.`registration_id`, 'target', NEW.`target`), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
