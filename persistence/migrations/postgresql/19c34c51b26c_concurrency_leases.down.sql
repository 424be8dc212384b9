-- Osprey schema revision 19c34c51b26c (concurrency_leases), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Leases on global concurrency limit slots (Prefect's concurrency lease storage, kept durable)

DROP TABLE concurrency_lease;
