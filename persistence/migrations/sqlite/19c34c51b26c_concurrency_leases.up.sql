-- Osprey schema revision 19c34c51b26c (concurrency_leases), SQLite, upgrade.
-- Leases on global concurrency limit slots (Prefect's concurrency lease storage, kept durable)
-- concurrency_lease: slots held on concurrency_limit_v2 rows until released or expired (then the lease
-- reaper gives them back). resource_ids is a JSON list of limit ids (no foreign key: a deleted limit
-- leaves its leases to expire harmlessly), holder is {"type", "id"} or NULL.

CREATE TABLE concurrency_lease (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    resource_ids TEXT NOT NULL DEFAULT '[]',
    slots INTEGER NOT NULL,
    holder TEXT,
    expiration TEXT NOT NULL,
    CONSTRAINT pk_concurrency_lease PRIMARY KEY (id)
);
CREATE INDEX ix_concurrency_lease__updated ON concurrency_lease (updated);
CREATE INDEX ix_concurrency_lease__expiration ON concurrency_lease (expiration);
