-- When retention removed a quarantined record's payload, so IT staff asking for it are told the date.
-- Payloads pruned before this migration have no date: their rows keep raw null and this null.
ALTER TABLE `quarantine` ADD `raw_pruned_at` text;
