-- Osprey schema revision 19c34c51b26c (concurrency_leases), PostgreSQL, upgrade.
-- Leases on global concurrency limit slots (Prefect's concurrency lease storage, kept durable)
-- concurrency_lease: slots held on concurrency_limit_v2 rows until released or expired (then the lease
-- reaper gives them back). resource_ids is a JSON list of limit ids (no foreign key: a deleted limit
-- leaves its leases to expire harmlessly), holder is {"type", "id"} or NULL.

CREATE TABLE concurrency_lease (
    id UUID NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    resource_ids JSONB NOT NULL DEFAULT '[]',
    slots INTEGER NOT NULL,
    holder JSONB,
    expiration TIMESTAMPTZ NOT NULL,
    CONSTRAINT pk_concurrency_lease PRIMARY KEY (id)
);
CREATE INDEX ix_concurrency_lease__updated ON concurrency_lease (updated);
CREATE INDEX ix_concurrency_lease__expiration ON concurrency_lease (expiration);
