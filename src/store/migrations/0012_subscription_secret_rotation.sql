ALTER TABLE `subscriptions` ADD `previous_secret_sealed` text;--> statement-breakpoint
ALTER TABLE `subscriptions` ADD `previous_secret_until` text;