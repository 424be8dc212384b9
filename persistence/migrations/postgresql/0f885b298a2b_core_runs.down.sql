-- Osprey schema revision 0f885b298a2b (core_runs), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Flows, flow runs, task runs, their states, the task cache, logs and flow run inputs

DROP TABLE flow_run_input;
DROP TABLE log;
DROP TABLE task_run_state_cache;
DROP TABLE task_run_state;
ALTER TABLE flow_run DROP CONSTRAINT fk_flow_run__parent_task_run_id__task_run;
DROP TABLE task_run;
ALTER TABLE flow_run DROP CONSTRAINT fk_flow_run__state_id__flow_run_state;
DROP TABLE flow_run_state;
DROP TABLE flow_run;
DROP TABLE flow;
