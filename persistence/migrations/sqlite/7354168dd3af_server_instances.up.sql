-- Osprey schema revision 7354168dd3af (server_instances), SQLite, upgrade.
-- Servers sharing the database: their heartbeats and the lease of the background services
-- server_instance: one row per running Osprey server (id = its lease owner in the outbox). heartbeat is renewed
-- every few seconds, and a server whose heartbeat is older than the configured limit is dead, and its outbox leases
-- are released for the others to take. A server that stops cleanly deletes its row. db_session is the backend
-- pid of its writer's PostgreSQL connection: once that session is gone the server is dead at once (kill -9).
-- service_lease: who runs the background services (scheduler, late runs, foreman...), and until when. A server
-- runs them only while it holds the lease, so each pass runs on one server at a time.

CREATE TABLE server_instance (
    id VARCHAR NOT NULL,
    host VARCHAR NOT NULL,
    pid INTEGER NOT NULL,
    version VARCHAR NOT NULL,
    listen VARCHAR NOT NULL,
    db_session INTEGER,
    started TEXT NOT NULL,
    heartbeat TEXT NOT NULL,
    CONSTRAINT pk_server_instance PRIMARY KEY (id)
);
CREATE INDEX ix_server_instance__heartbeat ON server_instance (heartbeat);
CREATE TABLE service_lease (
    name VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    acquired TEXT NOT NULL,
    expires TEXT NOT NULL,
    CONSTRAINT pk_service_lease PRIMARY KEY (name)
);
