-- Who runs a sync run (a Node process and thread, or `workers`): a run whose owner is gone is ended
-- as `interrupted` instead of showing "running" for ever (decision 0020, "Later (2026-11-24)").
-- Runs started before this migration have no owner.
ALTER TABLE `sync_runs` ADD `owner` text;--> statement-breakpoint
-- A merge finds the open quarantine entries of the records it merged, to close them as superseded.
CREATE INDEX `quarantine_open_record` ON `quarantine` (`tenant`,`adapter`,`record_id`) WHERE `resolved_at` is null;
