-- Osprey schema revision ded23ee05fa0 (run_window_indexes), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Flow runs of one flow, deployment or work queue in a time window read only their own rows: those indexes carry expected_start_time

DROP INDEX ix_flow_run__deployment_id_expected_start_time;
CREATE INDEX ix_flow_run__deployment_id ON flow_run (deployment_id);
DROP INDEX ix_flow_run__work_queue_id_expected_start_time;
CREATE INDEX ix_flow_run__work_queue_id ON flow_run (work_queue_id);
DROP INDEX ix_flow_run__flow_id_expected_start_time;
