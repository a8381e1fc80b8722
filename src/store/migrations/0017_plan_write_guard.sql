CREATE TABLE `plan_write_guard` (
	`won` integer NOT NULL,
	CONSTRAINT "plan_write_lost" CHECK("plan_write_guard"."won" = 1)
);
