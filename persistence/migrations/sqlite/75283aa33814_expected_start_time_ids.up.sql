-- Osprey schema revision 75283aa33814 (expected_start_time_ids), SQLite, upgrade.
-- Flow runs of a time window give their ids from the expected_start_time index alone: it carries id, so counting their task runs reads no flow_run row
-- The UI's runs page counts the task runs of a week of flow runs (233,000 of 1 M runs, 1.1 M task runs) on
-- every load. With an index on expected_start_time alone each of those runs was read from the table for its id
-- before its task runs were looked up (60 ms of the count on SQLite). With id in the index the count reads
-- indexes only, and a sort by expected_start_time then id (EXPECTED_START_TIME_DESC) needs no sort of ties.
-- It replaces the single-column index: the same write cost, the same lookups by prefix.

DROP INDEX ix_flow_run__expected_start_time_desc;
CREATE INDEX ix_flow_run__expected_start_time_desc_id ON flow_run (expected_start_time DESC, id DESC);
