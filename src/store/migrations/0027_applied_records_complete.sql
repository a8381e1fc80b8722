-- A record merged in part (consent refused some of it, or references of it were left out) is marked
-- too, with complete = 0: the mark tells whose record it is, so a deletion at its source finds the
-- citizen and takes out what flowed, but not that it is merged, so every read merges it again (a later
-- consent lets the rest flow). Marks made before were all of records merged whole. No index for the
-- look-up by record id: it stays a scan of the tenant's marks, paid only by a feed page with deletions.
ALTER TABLE `applied_records` ADD `complete` integer DEFAULT 1 NOT NULL;
