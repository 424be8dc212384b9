-- Osprey schema revision ded23ee05fa0 (run_window_indexes), SQLite, upgrade.
-- Flow runs of one flow, deployment or work queue in a time window read only their own rows: those indexes carry expected_start_time
-- The UI's dashboard counts each flow's and each work pool's runs of the last day (about 70 counts per load).
-- With an index on expected_start_time alone each count read every run of the day from the table (33,000 of
-- 1 M runs, 20-40 ms on SQLite), but with the owner's id first it reads the owner's few hundred (under 1 ms).
-- The work-queue and deployment indexes replace the single-column ones (the same write cost, the same
-- lookups by prefix), and the flow's is new (its unique key starts with flow_id but goes on with idempotency_key).

CREATE INDEX ix_flow_run__flow_id_expected_start_time ON flow_run (flow_id, expected_start_time);
DROP INDEX ix_flow_run__work_queue_id;
CREATE INDEX ix_flow_run__work_queue_id_expected_start_time ON flow_run (work_queue_id, expected_start_time);
DROP INDEX ix_flow_run__deployment_id;
CREATE INDEX ix_flow_run__deployment_id_expected_start_time ON flow_run (deployment_id, expected_start_time);
