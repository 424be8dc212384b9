-- Osprey schema revision 7354168dd3af (server_instances), PostgreSQL, downgrade: exactly undoes the upgrade.
-- Servers sharing the database: their heartbeats and the lease of the background services

DROP TABLE service_lease;
DROP TABLE server_instance;
