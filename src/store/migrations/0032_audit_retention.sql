CREATE TABLE `audit_bases` (
	`tenant` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
-- Retention may prune a chain's oldest rows (RETENTION_AUDIT_DAYS), and only those: a row is deleted
-- only at or below its chain's recorded base, which moves in the same batch (decision 0030).
DROP TRIGGER `audit_log_no_delete`;
--> statement-breakpoint
CREATE TRIGGER `audit_log_no_delete` BEFORE DELETE ON `audit_log` WHEN NOT EXISTS (SELECT 1 FROM `audit_bases` WHERE `audit_bases`.`tenant` = OLD.`tenant` AND OLD.`seq` <= `audit_bases`.`seq`) BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only: its rows cannot be deleted (only those retention pruned the chain past)');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_bases_no_delete` BEFORE DELETE ON `audit_bases` BEGIN
  SELECT RAISE(ABORT, 'an audit chain base cannot be deleted');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_bases_forward_only` BEFORE UPDATE ON `audit_bases` WHEN NEW.`seq` <= OLD.`seq` OR NEW.`tenant` IS NOT OLD.`tenant` BEGIN
  SELECT RAISE(ABORT, 'an audit chain base only moves forward');
END;
