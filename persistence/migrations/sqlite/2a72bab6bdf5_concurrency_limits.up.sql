-- Osprey schema revision 2a72bab6bdf5 (concurrency_limits), SQLite, upgrade.
-- Tag concurrency limits (v1) and global concurrency limits (v2)
-- concurrency_limit: legacy v1 tag limits (active_slots is a JSON list of task run ids).
-- concurrency_limit_v2: global limits (tag limits are also mirrored as tag:<tag>).
-- The column "limit" is a reserved word and must be quoted in queries.

CREATE TABLE concurrency_limit (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    tag VARCHAR NOT NULL,
    concurrency_limit INTEGER NOT NULL,
    active_slots TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT pk_concurrency_limit PRIMARY KEY (id)
);
CREATE INDEX ix_concurrency_limit__updated ON concurrency_limit (updated);
CREATE UNIQUE INDEX uq_concurrency_limit__tag ON concurrency_limit (tag);

CREATE TABLE concurrency_limit_v2 (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    active BOOLEAN NOT NULL DEFAULT true,
    name VARCHAR NOT NULL,
    "limit" INTEGER NOT NULL,
    active_slots INTEGER NOT NULL DEFAULT 0,
    denied_slots INTEGER NOT NULL DEFAULT 0,
    slot_decay_per_second REAL NOT NULL DEFAULT 0,
    avg_slot_occupancy_seconds REAL NOT NULL DEFAULT 2.0,
    CONSTRAINT pk_concurrency_limit_v2 PRIMARY KEY (id),
    CONSTRAINT uq_concurrency_limit_v2__name UNIQUE (name)
);
CREATE INDEX ix_concurrency_limit_v2__updated ON concurrency_limit_v2 (updated);
