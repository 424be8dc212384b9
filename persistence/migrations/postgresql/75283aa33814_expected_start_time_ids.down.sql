-- Osprey schema revision 75283aa33814 (expected_start_time_ids), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Flow runs of a time window give their ids from the expected_start_time index alone: it carries id, so counting their task runs reads no flow_run row

DROP INDEX ix_flow_run__expected_start_time_desc_id;
CREATE INDEX ix_flow_run__expected_start_time_desc ON flow_run (expected_start_time DESC);
