CREATE TABLE `caught_up` (
	`tenant` text NOT NULL,
	`adapter` text NOT NULL,
	`epoch` integer NOT NULL,
	`at` text NOT NULL,
	PRIMARY KEY(`tenant`, `adapter`)
);
--> statement-breakpoint
CREATE TABLE `enrolment_epochs` (
	`tenant` text PRIMARY KEY NOT NULL,
	`epoch` integer NOT NULL
);
--> statement-breakpoint
-- Every change that can leave an enrolled citizen never pulled from an adapter moves the tenant's
-- enrolment epoch: what the catch-up's query reads (active member rows, plan status, first-pull
-- marks), watched here so that no code path can enrol without the catch-up noticing.
CREATE TRIGGER `enrolment_epoch_member_added` AFTER INSERT ON `plan_members` WHEN NEW.`active` = 1 BEGIN
  INSERT INTO `enrolment_epochs` (`tenant`, `epoch`) VALUES (NEW.`tenant`, 1) ON CONFLICT (`tenant`) DO UPDATE SET `epoch` = `epoch` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolment_epoch_member_changed` AFTER UPDATE ON `plan_members` WHEN NEW.`active` = 1 BEGIN
  INSERT INTO `enrolment_epochs` (`tenant`, `epoch`) VALUES (NEW.`tenant`, 1) ON CONFLICT (`tenant`) DO UPDATE SET `epoch` = `epoch` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolment_epoch_plan_added` AFTER INSERT ON `plans` BEGIN
  INSERT INTO `enrolment_epochs` (`tenant`, `epoch`) VALUES (NEW.`tenant`, 1) ON CONFLICT (`tenant`) DO UPDATE SET `epoch` = `epoch` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolment_epoch_plan_status` AFTER UPDATE OF `status` ON `plans` WHEN NEW.`status` IS NOT OLD.`status` BEGIN
  INSERT INTO `enrolment_epochs` (`tenant`, `epoch`) VALUES (NEW.`tenant`, 1) ON CONFLICT (`tenant`) DO UPDATE SET `epoch` = `epoch` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `enrolment_epoch_pulled_forgotten` AFTER DELETE ON `pulled_citizens` BEGIN
  INSERT INTO `enrolment_epochs` (`tenant`, `epoch`) VALUES (OLD.`tenant`, 1) ON CONFLICT (`tenant`) DO UPDATE SET `epoch` = `epoch` + 1;
END;
