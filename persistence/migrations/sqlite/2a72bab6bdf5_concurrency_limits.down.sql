-- Osprey schema revision 2a72bab6bdf5 (concurrency_limits), SQLite, downgrade: exactly undoes the upgrade.
-- Tag concurrency limits (v1) and global concurrency limits (v2)

DROP TABLE concurrency_limit_v2;
DROP TABLE concurrency_limit;
