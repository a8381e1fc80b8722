-- The sector system a subscription serves: plan events go to it only for plans whose consent lets data
-- flow with that system (decision 0014, "Later (2026-11-24, session 19)"). Null for subscriptions made
-- before: they serve no system and get no events.
ALTER TABLE `subscriptions` ADD `system` text;
