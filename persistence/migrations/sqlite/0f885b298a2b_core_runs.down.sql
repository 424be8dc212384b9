-- Osprey schema revision 0f885b298a2b (core_runs), SQLite, downgrade: exactly undoes the upgrade.
-- Flows, flow runs, task runs, their states, the task cache, logs and flow run inputs

DROP TABLE flow_run_input;
DROP TABLE log;
DROP TABLE task_run_state_cache;
DROP TABLE task_run_state;
DROP TABLE task_run;
DROP TABLE flow_run_state;
DROP TABLE flow_run;
DROP TABLE flow;
