CREATE TABLE `write_guard` (
	`won` integer NOT NULL,
	CONSTRAINT "write_lost" CHECK("write_guard"."won" = 1)
);
