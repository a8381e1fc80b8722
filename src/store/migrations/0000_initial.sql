CREATE TABLE `applied_records` (
	`tenant` text NOT NULL,
	`source` text NOT NULL,
	`record_id` text NOT NULL,
	`record_version` text NOT NULL,
	`plan_id` text NOT NULL,
	`applied_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `source`, `record_id`, `record_version`)
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`tenant` text NOT NULL,
	`seq` integer NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target_type` text NOT NULL,
	`target_id` text NOT NULL,
	`citizen_id` text,
	`detail` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	PRIMARY KEY(`tenant`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `audit_tenant_citizen` ON `audit_log` (`tenant`,`citizen_id`);--> statement-breakpoint
CREATE TABLE `citizens` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`cpr_hash` text NOT NULL,
	`cpr_cipher` text NOT NULL,
	`birth_date` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `citizens_tenant_cpr_hash` ON `citizens` (`tenant`,`cpr_hash`);--> statement-breakpoint
CREATE TABLE `consents` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`citizen_id` text NOT NULL,
	`kind` text NOT NULL,
	`document` text NOT NULL,
	`revoked_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `consents_tenant_citizen` ON `consents` (`tenant`,`citizen_id`);--> statement-breakpoint
CREATE TABLE `inbound_events` (
	`tenant` text NOT NULL,
	`source` text NOT NULL,
	`event_id` text NOT NULL,
	`received_at` text NOT NULL,
	`payload` text,
	`processed_at` text,
	PRIMARY KEY(`tenant`, `source`, `event_id`)
);
--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`registration_id` text NOT NULL,
	`citizen_id` text NOT NULL,
	`target` text NOT NULL,
	`operation` text NOT NULL,
	`payload` text,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` text NOT NULL,
	`last_error` text,
	`receipt` text,
	`consent_ref` text,
	`sequence` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbox_due` ON `outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_tenant_registration` ON `outbox` (`tenant`,`registration_id`);--> statement-breakpoint
CREATE INDEX `outbox_tenant_citizen` ON `outbox` (`tenant`,`citizen_id`,`sequence`);--> statement-breakpoint
CREATE TABLE `plan_members` (
	`tenant` text NOT NULL,
	`plan_id` text NOT NULL,
	`citizen_id` text NOT NULL,
	`active` integer NOT NULL,
	PRIMARY KEY(`plan_id`, `citizen_id`)
);
--> statement-breakpoint
CREATE INDEX `plan_members_tenant_citizen` ON `plan_members` (`tenant`,`citizen_id`);--> statement-breakpoint
CREATE TABLE `plans` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`status` text NOT NULL,
	`document` text NOT NULL,
	`version` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `plans_tenant_status` ON `plans` (`tenant`,`status`);--> statement-breakpoint
CREATE TABLE `quarantine` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`adapter` text NOT NULL,
	`record_type` text NOT NULL,
	`record_id` text,
	`mapping_id` text,
	`reason` text NOT NULL,
	`raw` text,
	`run_id` text,
	`created_at` text NOT NULL,
	`resolved_at` text
);
--> statement-breakpoint
CREATE INDEX `quarantine_tenant_created` ON `quarantine` (`tenant`,`created_at`);--> statement-breakpoint
CREATE TABLE `registrations` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`plan_id` text NOT NULL,
	`kind` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`body_hash` text NOT NULL,
	`document` text NOT NULL,
	`response` text NOT NULL,
	`actor` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `registrations_tenant_key` ON `registrations` (`tenant`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `registrations_tenant_plan` ON `registrations` (`tenant`,`plan_id`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`url` text NOT NULL,
	`secret` text NOT NULL,
	`event_types` text NOT NULL,
	`active` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `subscriptions_tenant` ON `subscriptions` (`tenant`);--> statement-breakpoint
CREATE TABLE `sync_cursors` (
	`tenant` text NOT NULL,
	`adapter` text NOT NULL,
	`cursor` text,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`tenant`, `adapter`)
);
--> statement-breakpoint
CREATE TABLE `sync_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`adapter` text NOT NULL,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`started_at` text NOT NULL,
	`ended_at` text,
	`stats` text NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `sync_runs_tenant_started` ON `sync_runs` (`tenant`,`started_at`);