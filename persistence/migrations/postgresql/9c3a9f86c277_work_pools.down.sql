-- Osprey schema revision 9c3a9f86c277 (work_pools), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Work pools, work queues and workers

DROP TABLE worker;
ALTER TABLE work_pool DROP CONSTRAINT fk_work_pool__default_queue_id__work_queue;
DROP TABLE work_queue;
DROP TABLE work_pool;
