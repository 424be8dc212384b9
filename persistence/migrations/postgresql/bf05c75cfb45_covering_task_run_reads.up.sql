-- Osprey schema revision bf05c75cfb45 (covering_task_run_reads), PostgreSQL, upgrade.
-- The UI's task-run counts and histories read indexes only, and four task-run indexes no query reads are dropped
-- Never read: task_run's updated, state_timestamp and state_id (no query filters or sorts on them) and
-- state_type (a prefix of (state_type, start_time, id)). Each recorded task-run state rewrote all four.
-- A flow's task runs by state (the flow page's counts and history, 51,000 task runs of a 1 M-run database)
-- read one table row per task run. The (flow_run_id, state_type) index carries what those read. A window of
-- task runs summed per interval and state (the dashboard's history) does the same from the expected_start_time
-- index, which also carries id, so a page in that order needs no sort of ties. Both indexes were or are
-- rewritten on every recorded state already (the state UPDATE assigns their columns). The flow_run indexes of
-- an owner's window carry the run's id and start_time: its task runs are found, and its runs ordered by start,
-- without reading the flow_run rows.

DROP INDEX ix_task_run__updated;
DROP INDEX ix_task_run__state_timestamp;
DROP INDEX ix_task_run__state_id;
DROP INDEX ix_task_run__state_type;
DROP INDEX ix_task_run__expected_start_time_desc;
CREATE INDEX ix_task_run__expected_start_time_desc_id_history ON task_run (expected_start_time DESC, id DESC,
    state_type, state_name, start_time, state_timestamp, total_run_time, flow_run_id);
CREATE INDEX ix_task_run__flow_run_id_state_type_history ON task_run (flow_run_id, state_type, id, start_time,
    expected_start_time, state_name, total_run_time, state_timestamp);
DROP INDEX ix_flow_run__flow_id_expected_start_time;
CREATE INDEX ix_flow_run__flow_id_expected_start_time_id_start_time
    ON flow_run (flow_id, expected_start_time, id, start_time);
DROP INDEX ix_flow_run__work_queue_id_expected_start_time;
CREATE INDEX ix_flow_run__work_queue_id_expected_start_time_id_start_time
    ON flow_run (work_queue_id, expected_start_time, id, start_time);
DROP INDEX ix_flow_run__deployment_id_expected_start_time;
CREATE INDEX ix_flow_run__deployment_id_expected_start_time_id_start_time
    ON flow_run (deployment_id, expected_start_time, id, start_time);
