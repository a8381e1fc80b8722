DROP INDEX `plans_tenant_status`;--> statement-breakpoint
CREATE INDEX `plans_tenant_status_coordinator` ON `plans` (`tenant`,`status`,`coordinator_name`);--> statement-breakpoint
CREATE INDEX `citizens_legacy_cipher` ON `citizens` (`tenant`) WHERE substr(`cpr_cipher`, 1, 3) in ('v1:', 'v2:');