-- Osprey schema revision 9c3a9f86c277 (work_pools), SQLite, upgrade.
-- Work pools, work queues and workers
-- work_pool.default_queue_id and work_queue.work_pool_id reference each other.

CREATE TABLE work_pool (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    name VARCHAR NOT NULL,
    description VARCHAR,
    type VARCHAR NOT NULL,
    base_job_template TEXT NOT NULL DEFAULT '{}',
    is_paused BOOLEAN NOT NULL DEFAULT false,
    default_queue_id CHAR(36),
    concurrency_limit INTEGER,
    status VARCHAR(16) NOT NULL DEFAULT 'NOT_READY',
    last_transitioned_status_at TEXT,
    last_status_event_id CHAR(36),
    storage_configuration TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT pk_work_pool PRIMARY KEY (id),
    CONSTRAINT uq_work_pool__name UNIQUE (name),
    CONSTRAINT fk_work_pool__default_queue_id__work_queue FOREIGN KEY (default_queue_id)
        REFERENCES work_queue (id) ON DELETE RESTRICT,
    CONSTRAINT ck_work_pool__status CHECK (status IN ('READY', 'NOT_READY', 'PAUSED'))
);
CREATE INDEX ix_work_pool__updated ON work_pool (updated);
CREATE INDEX ix_work_pool__type ON work_pool (type);
CREATE INDEX ix_work_pool__default_queue_id ON work_pool (default_queue_id);

CREATE TABLE work_queue (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    name VARCHAR NOT NULL,
    filter TEXT,
    description VARCHAR NOT NULL DEFAULT '',
    is_paused BOOLEAN NOT NULL DEFAULT false,
    concurrency_limit INTEGER,
    priority INTEGER NOT NULL,
    last_polled TEXT,
    status VARCHAR(16) NOT NULL DEFAULT 'NOT_READY',
    work_pool_id CHAR(36) NOT NULL,
    CONSTRAINT pk_work_queue PRIMARY KEY (id),
    CONSTRAINT uq_work_queue__work_pool_id_name UNIQUE (work_pool_id, name),
    CONSTRAINT fk_work_queue__work_pool_id__work_pool FOREIGN KEY (work_pool_id)
        REFERENCES work_pool (id) ON DELETE CASCADE,
    CONSTRAINT ck_work_queue__status CHECK (status IN ('READY', 'NOT_READY', 'PAUSED'))
);
CREATE INDEX ix_work_queue__updated ON work_queue (updated);
CREATE INDEX ix_work_queue__work_pool_id_priority ON work_queue (work_pool_id, priority);

CREATE TABLE worker (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    work_pool_id CHAR(36) NOT NULL,
    name VARCHAR NOT NULL,
    last_heartbeat_time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    heartbeat_interval_seconds INTEGER,
    status VARCHAR(16) NOT NULL DEFAULT 'OFFLINE',
    CONSTRAINT pk_worker PRIMARY KEY (id),
    CONSTRAINT uq_worker__work_pool_id_name UNIQUE (work_pool_id, name),
    CONSTRAINT fk_worker__work_pool_id__work_pool FOREIGN KEY (work_pool_id)
        REFERENCES work_pool (id) ON DELETE CASCADE,
    CONSTRAINT ck_worker__status CHECK (status IN ('ONLINE', 'OFFLINE'))
);
CREATE INDEX ix_worker__updated ON worker (updated);
CREATE INDEX ix_worker__work_pool_id_last_heartbeat_time ON worker (work_pool_id, last_heartbeat_time);
