-- plan.changed events name the parts of the plan that changed (vendors read only what they need):
-- compared in the database, and only while the tenant has an active subscription, as before. One
-- SELECT over a JSON array (D1 refuses a compound SELECT of this many terms).
DROP TRIGGER IF EXISTS `events_plan_changed`;
--> statement-breakpoint
CREATE TRIGGER `events_plan_changed` AFTER UPDATE OF `version` ON `plans`
WHEN NEW.`version` <> OLD.`version` AND EXISTS (SELECT 1 FROM `subscriptions` WHERE `tenant` = NEW.`tenant` AND `disabled_at` IS NULL)
BEGIN
  INSERT INTO `events` (`tenant`, `type`, `data`, `at`)
  VALUES (NEW.`tenant`, 'plan.changed', json_object('planId', NEW.`id`, 'version', NEW.`version`, 'status', NEW.`status`, 'previousStatus', OLD.`status`, 'changed', (
    SELECT json_group_array(value) FROM json_each(json_array(
      CASE WHEN NEW.`status` IS NOT OLD.`status` THEN 'status' END,
      CASE WHEN json_extract(NEW.`document`, '$.subject') IS NOT json_extract(OLD.`document`, '$.subject') THEN 'subject' END,
      CASE WHEN json_extract(NEW.`document`, '$.purpose') IS NOT json_extract(OLD.`document`, '$.purpose') THEN 'purpose' END,
      CASE WHEN json_extract(NEW.`document`, '$.situation') IS NOT json_extract(OLD.`document`, '$.situation') THEN 'situation' END,
      CASE WHEN json_extract(NEW.`document`, '$.situationNotes') IS NOT json_extract(OLD.`document`, '$.situationNotes') THEN 'situationNotes' END,
      CASE WHEN json_extract(NEW.`document`, '$.citizenViews') IS NOT json_extract(OLD.`document`, '$.citizenViews') THEN 'citizenViews' END,
      CASE WHEN json_extract(NEW.`document`, '$.goals') IS NOT json_extract(OLD.`document`, '$.goals') THEN 'goals' END,
      CASE WHEN json_extract(NEW.`document`, '$.interventions') IS NOT json_extract(OLD.`document`, '$.interventions') THEN 'interventions' END,
      CASE WHEN json_extract(NEW.`document`, '$.agreements') IS NOT json_extract(OLD.`document`, '$.agreements') THEN 'agreements' END,
      CASE WHEN json_extract(NEW.`document`, '$.followUps') IS NOT json_extract(OLD.`document`, '$.followUps') THEN 'followUps' END,
      CASE WHEN json_extract(NEW.`document`, '$.coordinator') IS NOT json_extract(OLD.`document`, '$.coordinator') THEN 'coordinator' END,
      CASE WHEN json_extract(NEW.`document`, '$.careTeams') IS NOT json_extract(OLD.`document`, '$.careTeams') THEN 'careTeams' END,
      CASE WHEN json_extract(NEW.`document`, '$.municipalities') IS NOT json_extract(OLD.`document`, '$.municipalities') THEN 'municipalities' END,
      CASE WHEN json_extract(NEW.`document`, '$.replaces') IS NOT json_extract(OLD.`document`, '$.replaces') THEN 'replaces' END,
      CASE WHEN json_extract(NEW.`document`, '$.timeFrame') IS NOT json_extract(OLD.`document`, '$.timeFrame') THEN 'timeFrame' END,
      CASE WHEN json_extract(NEW.`document`, '$.conflicts') IS NOT json_extract(OLD.`document`, '$.conflicts') THEN 'conflicts' END
    )) WHERE value IS NOT NULL)), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
