-- Osprey schema revision 079ccb41737f (lean_task_run_state_indexes), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Drops the task-run state indexes no query reads, which every recorded state paid for

CREATE INDEX ix_task_run_state__updated ON task_run_state (updated);
CREATE INDEX ix_task_run_state__type ON task_run_state (type);
CREATE INDEX ix_task_run_state__name ON task_run_state (name);
