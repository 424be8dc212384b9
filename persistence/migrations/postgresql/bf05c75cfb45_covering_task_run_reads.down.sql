-- Osprey schema revision bf05c75cfb45 (covering_task_run_reads), PostgreSQL, downgrade: exactly undoes the upgrade.
-- The UI's task-run counts and histories read indexes only, and four task-run indexes no query reads are dropped

DROP INDEX ix_flow_run__deployment_id_expected_start_time_id_start_time;
CREATE INDEX ix_flow_run__deployment_id_expected_start_time ON flow_run (deployment_id, expected_start_time);
DROP INDEX ix_flow_run__work_queue_id_expected_start_time_id_start_time;
CREATE INDEX ix_flow_run__work_queue_id_expected_start_time ON flow_run (work_queue_id, expected_start_time);
DROP INDEX ix_flow_run__flow_id_expected_start_time_id_start_time;
CREATE INDEX ix_flow_run__flow_id_expected_start_time ON flow_run (flow_id, expected_start_time);
DROP INDEX ix_task_run__flow_run_id_state_type_history;
DROP INDEX ix_task_run__expected_start_time_desc_id_history;
CREATE INDEX ix_task_run__expected_start_time_desc ON task_run (expected_start_time DESC);
CREATE INDEX ix_task_run__state_type ON task_run (state_type);
CREATE INDEX ix_task_run__state_id ON task_run (state_id);
CREATE INDEX ix_task_run__state_timestamp ON task_run (state_timestamp);
CREATE INDEX ix_task_run__updated ON task_run (updated);
