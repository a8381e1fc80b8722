-- The DPO's follow-up of reads from outside a plan (decision 0032): a partial index, so an append pays only for the rare read it holds.

CREATE INDEX `audit_reads_from_outside` ON `audit_log` (`tenant`,`at`) WHERE (case when json_valid("audit_log"."detail") then json_extract("audit_log"."detail", '$.departmentInPlan') end) = 0;