ALTER TABLE `quarantine` ADD `citizen_id` text;--> statement-breakpoint
ALTER TABLE `quarantine` ADD `resolution` text;--> statement-breakpoint
ALTER TABLE `quarantine` ADD `resolved_by` text;--> statement-breakpoint
ALTER TABLE `quarantine` ADD `resolution_note` text;