-- Osprey schema revision 079ccb41737f (lean_task_run_state_indexes), SQLite, upgrade.
-- Drops the task-run state indexes no query reads, which every recorded state paid for
-- Never read: task_run_state's type, name and updated (task-run filters read the run's own state columns,
-- histories are read by task_run_id, and the observed-states list groups the whole table, which no single-column
-- index serves). Each cost a b-tree insert per state, three of the six per recorded event.

DROP INDEX ix_task_run_state__updated;
DROP INDEX ix_task_run_state__type;
DROP INDEX ix_task_run_state__name;
