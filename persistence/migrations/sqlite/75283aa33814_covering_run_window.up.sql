-- Osprey schema revision 75283aa33814 (covering_run_window), SQLite, upgrade.
-- Flow runs of a time window are counted and paged from the expected_start_time index alone: it carries id and start_time
-- The UI's runs page counts the task runs of a week of flow runs (233,000 of 1 M runs, 1.1 M task runs) and
-- reads a page of that week's runs sorted by COALESCE(start_time, expected_start_time), 15 times each per load.
-- With an index on expected_start_time alone each of those runs was read from the table, for its id before its
-- task runs were looked up (60 ms of the count on SQLite) and for its start_time before the sort (93 ms against
-- 22 ms with it). A sort by expected_start_time then id (EXPECTED_START_TIME_DESC) needs no sort of ties.
-- It replaces the single-column index. A run's transition sets both columns, so the index entry was rewritten
-- on every transition already: the same index writes, each entry wider.

DROP INDEX ix_flow_run__expected_start_time_desc;
CREATE INDEX ix_flow_run__expected_start_time_desc_id_start_time
    ON flow_run (expected_start_time DESC, id DESC, start_time);
