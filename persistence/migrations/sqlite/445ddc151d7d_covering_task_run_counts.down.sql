-- Osprey schema revision 445ddc151d7d (covering_task_run_counts), SQLite, downgrade: exactly undoes the upgrade.
-- Task-run counts by state and start time read only the index: it carries the run's id for the subflow check

DROP INDEX ix_task_run__state_type_start_time_id;
CREATE INDEX ix_task_run__state_type_start_time ON task_run (state_type, start_time);
