-- Osprey schema revision 2a72bab6bdf5 (concurrency_limits), PostgreSQL, upgrade.
-- Tag concurrency limits (v1) and global concurrency limits (v2)
-- concurrency_limit: legacy v1 tag limits (active_slots is a JSON list of task run ids).
-- concurrency_limit_v2: global limits (tag limits are also mirrored as tag:<tag>).
-- The column "limit" is a reserved word and must be quoted in queries.

CREATE TABLE concurrency_limit (
    id UUID NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    tag VARCHAR NOT NULL,
    concurrency_limit INTEGER NOT NULL,
    active_slots JSONB NOT NULL DEFAULT '[]',
    CONSTRAINT pk_concurrency_limit PRIMARY KEY (id)
);
CREATE INDEX ix_concurrency_limit__updated ON concurrency_limit (updated);
CREATE UNIQUE INDEX uq_concurrency_limit__tag ON concurrency_limit (tag);

CREATE TABLE concurrency_limit_v2 (
    id UUID NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    active BOOLEAN NOT NULL DEFAULT true,
    name VARCHAR NOT NULL,
    "limit" INTEGER NOT NULL,
    active_slots INTEGER NOT NULL DEFAULT 0,
    denied_slots INTEGER NOT NULL DEFAULT 0,
    slot_decay_per_second DOUBLE PRECISION NOT NULL DEFAULT 0,
    avg_slot_occupancy_seconds DOUBLE PRECISION NOT NULL DEFAULT 2.0,
    CONSTRAINT pk_concurrency_limit_v2 PRIMARY KEY (id),
    CONSTRAINT uq_concurrency_limit_v2__name UNIQUE (name)
);
CREATE INDEX ix_concurrency_limit_v2__updated ON concurrency_limit_v2 (updated);
CREATE INDEX trgm_ix_concurrency_limit_v2_name ON concurrency_limit_v2 USING gin (name gin_trgm_ops);
