-- A plan that becomes enrolled (accepted or active: `enrolledStatuses`, src/model/lifecycle.ts) from
-- any other status — a new plan accepted, a declined one accepted again — may lack what its members'
-- sources hold: while it was not enrolled the feeds dropped their notices and moved past them. So its
-- active members' first-pull marks are forgotten (all adapters; the delete moves the enrolment epoch,
-- migration 0004), and the catch-up reads them in full. Their merged-record marks are kept per
-- citizen, not per plan (migration 0003: one merge writes a record into all of a citizen's enrolled
-- plans and marks it once); keying them by plan would change every lookup, so instead the marks of
-- versions merged into other plans (a closed one, say) are forgotten: they merge into this plan, and
-- into a plan that holds them already as the same version again (no change). Marks merged into this
-- plan stay, as do those of quarantined versions ('-'), which are not quarantined again.
-- The adapters are named (SourceSystem, src/model/common.ts) so the delete finds the marks by the
-- primary key (tenant, adapter, citizen) instead of walking every mark of the municipality.
CREATE TRIGGER `forget_marks_on_enrolment` AFTER UPDATE OF `status` ON `plans`
WHEN NEW.`status` IN ('accepted', 'active') AND OLD.`status` NOT IN ('accepted', 'active') BEGIN
  DELETE FROM `pulled_citizens` WHERE `tenant` = NEW.`tenant` AND `adapter` IN ('dfdg', 'education', 'social', 'health') AND `citizen_id` IN (SELECT `citizen_id` FROM `plan_members` WHERE `tenant` = NEW.`tenant` AND `plan_id` = NEW.`id` AND `active` = 1);
  DELETE FROM `applied_records` WHERE `tenant` = NEW.`tenant` AND `plan_id` NOT IN (NEW.`id`, '-') AND `citizen_id` IN (SELECT `citizen_id` FROM `plan_members` WHERE `tenant` = NEW.`tenant` AND `plan_id` = NEW.`id` AND `active` = 1);
END;
