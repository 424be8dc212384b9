-- Osprey schema revision 75283aa33814 (covering_run_window), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Flow runs of a time window are counted and paged from the expected_start_time index alone: it carries id and start_time

DROP INDEX ix_flow_run__expected_start_time_desc_id_start_time;
CREATE INDEX ix_flow_run__expected_start_time_desc ON flow_run (expected_start_time DESC);
