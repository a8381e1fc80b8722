CREATE TABLE `audit_heads` (
	`tenant` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
-- Chains written before: each tenant's head is its last row (docs/decisions/0019, "Later").
INSERT INTO `audit_heads` (`tenant`, `seq`, `hash`) SELECT `tenant`, `seq`, `hash` FROM `audit_log` AS `a` WHERE `seq` = (SELECT max(`seq`) FROM `audit_log` WHERE `tenant` = `a`.`tenant`);
--> statement-breakpoint
-- The audit log is append-only: no code path updates or deletes its rows (retention keeps them), so
-- the database refuses both. Someone holding the file can drop these triggers; what catches that is
-- verify (the hash chain and the head) and, for a rewrite with every hash recomputed, the heads the
-- nightly job logs (`npm run audit:verify -- --anchor tenant:seq:hash`).
CREATE TRIGGER `audit_log_no_update` BEFORE UPDATE ON `audit_log` BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only: its rows cannot be updated');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_log_no_delete` BEFORE DELETE ON `audit_log` BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only: its rows cannot be deleted');
END;
--> statement-breakpoint
-- A chain's head only moves forward (one upsert per append's commit), and is never deleted.
CREATE TRIGGER `audit_heads_no_delete` BEFORE DELETE ON `audit_heads` BEGIN
  SELECT RAISE(ABORT, 'an audit chain head cannot be deleted');
END;
--> statement-breakpoint
CREATE TRIGGER `audit_heads_forward_only` BEFORE UPDATE ON `audit_heads` WHEN NEW.`seq` <= OLD.`seq` OR NEW.`tenant` IS NOT OLD.`tenant` BEGIN
  SELECT RAISE(ABORT, 'an audit chain head only moves forward');
END;
