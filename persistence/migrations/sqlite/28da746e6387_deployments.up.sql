-- Osprey schema revision 28da746e6387 (deployments), SQLite, upgrade.
-- Deployments and deployment schedules
-- deployment.infra_overrides holds the job variables.
-- deployment.concurrency_limit is the legacy integer, concurrency_limit_id the global limit in use.

CREATE TABLE deployment (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    name VARCHAR NOT NULL,
    version VARCHAR,
    description TEXT,
    work_queue_name VARCHAR,
    infra_overrides TEXT NOT NULL DEFAULT '{}',
    path VARCHAR,
    entrypoint VARCHAR,
    last_polled TEXT,
    status VARCHAR(16) NOT NULL DEFAULT 'NOT_READY',
    flow_id CHAR(36) NOT NULL,
    work_queue_id CHAR(36),
    paused BOOLEAN NOT NULL DEFAULT false,
    concurrency_limit INTEGER,
    concurrency_limit_id CHAR(36),
    concurrency_options TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    labels TEXT DEFAULT '{}',
    parameters TEXT NOT NULL DEFAULT '{}',
    pull_steps TEXT,
    parameter_openapi_schema TEXT,
    enforce_parameter_schema BOOLEAN NOT NULL DEFAULT true,
    created_by TEXT,
    updated_by TEXT,
    infrastructure_document_id CHAR(36),
    storage_document_id CHAR(36),
    CONSTRAINT pk_deployment PRIMARY KEY (id),
    CONSTRAINT fk_deployment__flow_id__flow FOREIGN KEY (flow_id)
        REFERENCES flow (id) ON DELETE CASCADE,
    CONSTRAINT fk_deployment__work_queue_id__work_queue FOREIGN KEY (work_queue_id)
        REFERENCES work_queue (id) ON DELETE SET NULL,
    CONSTRAINT fk_deployment__concurrency_limit_id__concurrency_limit_v2 FOREIGN KEY (concurrency_limit_id)
        REFERENCES concurrency_limit_v2 (id) ON DELETE SET NULL,
    CONSTRAINT fk_deployment__infrastructure_document_id__block_document FOREIGN KEY (infrastructure_document_id)
        REFERENCES block_document (id) ON DELETE CASCADE,
    CONSTRAINT fk_deployment__storage_document_id__block_document FOREIGN KEY (storage_document_id)
        REFERENCES block_document (id) ON DELETE CASCADE,
    CONSTRAINT ck_deployment__status CHECK (status IN ('READY', 'NOT_READY'))
);
CREATE INDEX ix_deployment__updated ON deployment (updated);
CREATE INDEX ix_deployment__created ON deployment (created);
CREATE INDEX ix_deployment__name ON deployment (name);
CREATE UNIQUE INDEX uq_deployment__flow_id_name ON deployment (flow_id, name);
CREATE INDEX ix_deployment__work_queue_name ON deployment (work_queue_name);
CREATE INDEX ix_deployment__work_queue_id ON deployment (work_queue_id);
CREATE INDEX ix_deployment__paused ON deployment (paused);
CREATE INDEX ix_deployment__concurrency_limit_id ON deployment (concurrency_limit_id);
CREATE INDEX ix_deployment__infrastructure_document_id ON deployment (infrastructure_document_id);
CREATE INDEX ix_deployment__storage_document_id ON deployment (storage_document_id);

CREATE TABLE deployment_schedule (
    id CHAR(36) NOT NULL,
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    deployment_id CHAR(36) NOT NULL,
    schedule TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT true,
    max_scheduled_runs INTEGER,
    parameters TEXT NOT NULL DEFAULT '{}',
    slug VARCHAR,
    CONSTRAINT pk_deployment_schedule PRIMARY KEY (id),
    CONSTRAINT fk_deployment_schedule__deployment_id__deployment FOREIGN KEY (deployment_id)
        REFERENCES deployment (id) ON DELETE CASCADE
);
CREATE INDEX ix_deployment_schedule__updated ON deployment_schedule (updated);
CREATE UNIQUE INDEX uq_deployment_schedule__deployment_id_slug ON deployment_schedule (deployment_id, slug);
CREATE INDEX ix_deployment_schedule__slug ON deployment_schedule (slug);
