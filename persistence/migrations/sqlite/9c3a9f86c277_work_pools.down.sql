-- Osprey schema revision 9c3a9f86c277 (work_pools), SQLite, downgrade: exactly undoes the upgrade.
-- Work pools, work queues and workers

DROP TABLE worker;
UPDATE work_pool SET default_queue_id = NULL;
DROP TABLE work_queue;
DROP TABLE work_pool;
